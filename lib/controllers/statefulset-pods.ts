// StatefulSet pod identity and storage: stable names <set>-<ordinal>, hostname/subdomain, revision label, the
// PersistentVolumeClaims <template>-<set>-<ordinal> from volumeClaimTemplates, and pod health helpers.
import type { KubeObject } from '../client/types.ts';
import { isPodAvailable, isPodReady, ownerRefFor, REVISION_HASH_LABEL } from './controller-revision.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export const podName = (set: KubeObject, ordinal: number): string => `${set.metadata.name}-${ordinal}`;
export const claimName = (tmpl: string, set: KubeObject, ordinal: number): string => `${tmpl}-${set.metadata.name}-${ordinal}`;

/** The ordinal of a pod of set, or undefined when the name does not fit <set>-<n>. */
export function ordinalOf(set: KubeObject, pod: KubeObject): number | undefined {
  const prefix = `${set.metadata.name}-`;
  const n = pod.metadata.name ?? '';
  if (!n.startsWith(prefix)) return undefined;
  const rest = n.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

export const isRunningAndReady = (p: KubeObject): boolean => p.status?.phase === 'Running' && isPodReady(p);
export const isTerminating = (p: KubeObject): boolean => !!p.metadata.deletionTimestamp;
export const isFinished = (p: KubeObject): boolean => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
export const isHealthy = (p: KubeObject, minReadySeconds: number, now: number): boolean =>
  isRunningAndReady(p) && !isTerminating(p) && isPodAvailable(p, minReadySeconds, now);

export function claimTemplates(set: KubeObject): KubeObject[] {
  return (set.spec?.volumeClaimTemplates ?? []) as KubeObject[];
}

/** The claims pod `ordinal` uses. */
export function newClaims(set: KubeObject, ordinal: number): KubeObject[] {
  const whenDeleted = set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain';
  return claimTemplates(set).map((t) => ({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(t.metadata.name!, set, ordinal), namespace: set.metadata.namespace,
      labels: { ...(t.metadata.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
      ...(t.metadata.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ...(whenDeleted === 'Delete' ? { ownerReferences: [{ ...ownerRefFor(set, 'StatefulSet'), controller: false }] } : {}),
    },
    spec: structuredClone(t.spec ?? {}),
  }));
}

/** The pod for ordinal at the given revision (template from that revision's set). */
export function newStatefulPod(set: KubeObject, template: KubeObject, revisionName: string, ordinal: number): KubeObject {
  const tmpl = structuredClone(template ?? {}) as KubeObject;
  const name = podName(set, ordinal);
  const spec = tmpl.spec ?? {};
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const volumes = ((spec.volumes ?? []) as { name: string }[]).filter((v) => !claimTemplates(set).some((t) => t.metadata.name === v.name));
  for (const t of claimTemplates(set)) volumes.push({ name: t.metadata.name!, persistentVolumeClaim: { claimName: claimName(t.metadata.name!, set, ordinal) } } as { name: string });
  if (volumes.length) spec.volumes = volumes;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: set.metadata.namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: revisionName, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) },
      ...(tmpl.metadata?.annotations ? { annotations: { ...tmpl.metadata.annotations } } : {}),
      ownerReferences: [ownerRefFor(set, 'StatefulSet')],
    },
    spec,
  };
}
