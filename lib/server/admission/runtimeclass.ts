// The RuntimeClass admission plugin, as in Kubernetes: a new pod that names spec.runtimeClassName must name an
// existing RuntimeClass (else 403 "pod rejected: RuntimeClass "x" not found"); the class's overhead.podFixed becomes
// spec.overhead (which the scheduler and quotas add to the pod's requests), and its scheduling.nodeSelector and
// tolerations are merged into the pod's. A pod may not carry an overhead its class does not define. The kubelet then
// runs the pod with the class's handler (lib/agent/kubelet/runtime-class.ts).
import type { KubeObject } from '../../client/types.ts';
import type { AdmissionAttributes } from '../registry/admission.ts';
import { forbiddenError } from './errors.ts';
import { milli } from './quantity.ts';

export const RUNTIME_CLASSES = { group: 'node.k8s.io', version: 'v1', resource: 'runtimeclasses' };

/** What the plugin reads: every RuntimeClass (a handful per cluster), only for pods that name one. */
export interface RuntimeClassLookup {
  list(ref: typeof RUNTIME_CLASSES, namespace: string): Promise<KubeObject[]>;
}

type Resources = Record<string, string | number>;

/** Same quantities for the same resources ("1000m" equals "1"), as upstream's semantic DeepEqual. */
function sameResources(a: Resources, b: Resources): boolean {
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => k in b && milli(a[k]) === milli(b[k]));
}

const sameToleration = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  ['key', 'operator', 'value', 'effect', 'tolerationSeconds'].every((k) => (a[k] ?? '') === (b[k] ?? ''));

/** Applies a class to a pod spec being created; returns the refusal reason, if any. */
export function applyRuntimeClass(spec: Record<string, any>, rc: KubeObject | undefined): string | undefined {
  const podFixed: Resources | undefined = rc?.overhead?.podFixed;
  const overhead: Resources | undefined = spec.overhead && Object.keys(spec.overhead).length ? spec.overhead : undefined;
  if (podFixed) {
    if (overhead && !sameResources(overhead, podFixed)) return "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead";
    spec.overhead = { ...podFixed };
  } else if (overhead) {
    return 'pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead';
  }
  const scheduling = rc?.scheduling;
  if (!scheduling) return undefined;
  const selector: Record<string, string> = scheduling.nodeSelector ?? {};
  if (Object.keys(selector).length) {
    spec.nodeSelector ??= {};
    for (const [k, v] of Object.entries(selector)) {
      const podValue = spec.nodeSelector[k];
      if (podValue !== undefined && podValue !== v) {
        return `conflict: runtimeClass.scheduling.nodeSelector[${k}] = ${v}; pod.spec.nodeSelector[${k}] = ${podValue}`;
      }
      spec.nodeSelector[k] = v;
    }
  }
  const extra: Record<string, unknown>[] = scheduling.tolerations ?? [];
  if (extra.length) {
    const have: Record<string, unknown>[] = spec.tolerations ?? [];
    spec.tolerations = [...have, ...extra.filter((t) => !have.some((h) => sameToleration(h, t)))];
  }
  return undefined;
}

export async function runtimeClassAdmission(look: RuntimeClassLookup, a: AdmissionAttributes): Promise<void> {
  if (a.operation !== 'CREATE' || a.group || a.resource !== 'pods' || a.subresource || !a.object) return;
  const spec = (a.object.spec ??= {});
  const name: string | undefined = spec.runtimeClassName || undefined;
  const rc = name ? (await look.list(RUNTIME_CLASSES, '')).find((c) => c.metadata.name === name) : undefined;
  if (name && !rc) throw forbiddenError(a, `pod rejected: RuntimeClass ${JSON.stringify(name)} not found`);
  const why = applyRuntimeClass(spec, rc);
  if (why) throw forbiddenError(a, why);
}
