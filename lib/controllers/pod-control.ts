// Shared by the ReplicaSet, ReplicationController and Deployment controllers: pods from templates, claiming
// (adoption and release through ownerReferences), and the order in which surplus pods are deleted.
import type { Client, KubeObject, OwnerReference, ResourceRef } from '../client/types.ts';
import { isPodReady, podCondition } from './controller-revision.ts';

export interface OwnerKind {
  ref: ResourceRef;
  kind: string;
  apiVersion: string;
}

export const controllerRef = (owner: KubeObject, k: OwnerKind): OwnerReference => ({
  apiVersion: k.apiVersion, kind: k.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true,
});

export function podFromTemplate(owner: KubeObject, template: KubeObject, k: OwnerKind): KubeObject {
  const meta = template.metadata ?? {};
  const pod: KubeObject = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace,
      labels: { ...meta.labels },
      ownerReferences: [controllerRef(owner, k)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
  if (meta.annotations) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}

export interface Claimed {
  owned: KubeObject[];
  adopt: KubeObject[];
  release: KubeObject[];
}

/** Splits candidate children by controllerRef and selector match (client-go's ClaimPods). */
export function claim(owner: KubeObject, children: readonly KubeObject[], matches: (labels: Record<string, string> | undefined) => boolean): Claimed {
  const out: Claimed = { owned: [], adopt: [], release: [] };
  const deleting = !!owner.metadata.deletionTimestamp;
  for (const c of children) {
    const ref = c.metadata.ownerReferences?.find((r) => r.controller);
    const match = matches(c.metadata.labels);
    if (ref) {
      if (ref.uid !== owner.metadata.uid) continue;
      if (match) out.owned.push(c);
      else if (!deleting) out.release.push(c);
      continue;
    }
    if (match && !deleting && !c.metadata.deletionTimestamp) out.adopt.push(c);
  }
  return out;
}

/** Adds the controller ownerReference (uid precondition via resourceVersion-free merge of the full list). */
export async function adopt(client: Pick<Client, 'patch'>, ref: ResourceRef, child: KubeObject, owner: KubeObject, k: OwnerKind): Promise<KubeObject> {
  const refs = [...(child.metadata.ownerReferences ?? []), controllerRef(owner, k)];
  return client.patch(ref, child.metadata.name!, 'merge', { metadata: { ownerReferences: refs, uid: child.metadata.uid } }, { namespace: child.metadata.namespace });
}

export async function release(client: Pick<Client, 'patch'>, ref: ResourceRef, child: KubeObject, owner: KubeObject): Promise<void> {
  const refs = (child.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid);
  await client.patch(ref, child.metadata.name!, 'merge', { metadata: { ownerReferences: refs.length ? refs : null, uid: child.metadata.uid } }, { namespace: child.metadata.namespace });
}

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const ts = (s: string | undefined) => (s ? Date.parse(s) : 0);
const restarts = (p: KubeObject) => Math.max(0, ...((p.status?.containerStatuses ?? []) as { restartCount?: number }[]).map((c) => c.restartCount ?? 0));
const cost = (p: KubeObject) => Number(p.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0) || 0;

/**
 * Orders pods so the first ones are the best to delete (Kubernetes' ActivePodsWithRanks): unscheduled before
 * scheduled, pending < unknown < running, not ready before ready, lower deletion cost, more siblings on the same
 * node, ready for less time, more restarts, newer.
 */
export function rankForDeletion(pods: readonly KubeObject[], siblings: readonly KubeObject[] = pods): KubeObject[] {
  const perNode = new Map<string, number>();
  for (const p of siblings) if (p.spec?.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  const rank = (p: KubeObject) => (p.spec?.nodeName ? perNode.get(p.spec.nodeName) ?? 0 : 0);
  return [...pods].sort((a, b) => {
    const an = a.spec?.nodeName ? 1 : 0, bn = b.spec?.nodeName ? 1 : 0;
    if (an !== bn) return an - bn;
    const ap = phaseRank[a.status?.phase ?? 'Pending'] ?? 0, bp = phaseRank[b.status?.phase ?? 'Pending'] ?? 0;
    if (ap !== bp) return ap - bp;
    const ar = isPodReady(a) ? 1 : 0, br = isPodReady(b) ? 1 : 0;
    if (ar !== br) return ar - br;
    if (cost(a) !== cost(b)) return cost(a) - cost(b);
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (ar && br) {
      const at = ts(podCondition(a, 'Ready')?.lastTransitionTime), bt = ts(podCondition(b, 'Ready')?.lastTransitionTime);
      if (at !== bt) return bt - at;
    }
    if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
    return ts(b.metadata.creationTimestamp) - ts(a.metadata.creationTimestamp);
  });
}

/** Runs fn over items with at most `limit` in flight; returns the errors. */
export async function inBatches<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<unknown>): Promise<unknown[]> {
  const errors: unknown[] = [];
  let i = 0;
  const worker = async () => {
    while (i < items.length) {
      const x = items[i++]!;
      try { await fn(x); } catch (e) { errors.push(e); }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return errors;
}
