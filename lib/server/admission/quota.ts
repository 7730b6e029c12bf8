// ResourceQuota: what an object costs (pure), the usage of a namespace, and the admission check with Kubernetes'
// messages. The controller (lib/controllers/resourcequota.ts) writes status.hard/status.used from the same code.
import type { KubeObject, ResourceRef } from '../../client/types.ts';
import { formatLike, milli } from './quantity.ts';

/** Usage in milli-units per quota resource name. */
export type Usage = Record<string, number>;

type ResourceList = Record<string, string | number>;
interface Container { name: string; resources?: { requests?: ResourceList; limits?: ResourceList } }

/** The legacy (un-prefixed) object-count names Kubernetes accepts besides count/<resource>. */
const LEGACY_COUNTS: Record<string, string> = {
  pods: 'pods', services: 'services', configmaps: 'configmaps', secrets: 'secrets', persistentvolumeclaims: 'persistentvolumeclaims',
  replicationcontrollers: 'replicationcontrollers', resourcequotas: 'resourcequotas',
};

const countName = (ref: { group: string; resource: string }) => (ref.group ? `count/${ref.resource}.${ref.group}` : `count/${ref.resource}`);

const terminal = (pod: KubeObject) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** Pod requests or limits for one resource: sum over containers, or the largest init container when bigger. */
function podTotal(pod: KubeObject, which: 'requests' | 'limits', res: string): number {
  const cs = (pod.spec?.containers ?? []) as Container[];
  const inits = (pod.spec?.initContainers ?? []) as Container[];
  const sum = cs.reduce((n, c) => n + milli(c.resources?.[which]?.[res]), 0);
  const init = inits.reduce((n, c) => Math.max(n, milli(c.resources?.[which]?.[res])), 0);
  return Math.max(sum, init) + (which === 'requests' ? milli((pod.spec?.overhead as ResourceList | undefined)?.[res]) : 0);
}

/** What one object adds to its namespace's usage. Terminal pods and deleting objects cost nothing but a count. */
export function usageOf(ref: { group: string; resource: string }, obj: KubeObject): Usage {
  const u: Usage = { [countName(ref)]: 1000 };
  if (!ref.group && LEGACY_COUNTS[ref.resource]) u[LEGACY_COUNTS[ref.resource]!] = 1000;
  if (!ref.group && ref.resource === 'pods') {
    if (terminal(obj)) return {};
    for (const res of ['cpu', 'memory', 'ephemeral-storage']) {
      const rq = podTotal(obj, 'requests', res);
      const lm = podTotal(obj, 'limits', res);
      if (rq) { u[`requests.${res}`] = rq; u[res] = rq; }
      if (lm) u[`limits.${res}`] = lm;
    }
  }
  if (!ref.group && ref.resource === 'services') {
    const type = obj.spec?.type;
    if (type === 'LoadBalancer') u['services.loadbalancers'] = 1000;
    if (type === 'NodePort' || type === 'LoadBalancer') u['services.nodeports'] = 1000 * ((obj.spec?.ports ?? []) as unknown[]).length;
  }
  if (!ref.group && ref.resource === 'persistentvolumeclaims') {
    const st = obj.spec?.resources?.requests?.storage;
    if (st !== undefined) u['requests.storage'] = milli(st);
  }
  return u;
}

/** Resources a pod must state for a quota to account it (Kubernetes: "must specify ..."). */
export function missingPodResources(pod: KubeObject, hard: ResourceList): string[] {
  const out: string[] = [];
  const names = Object.keys(hard).filter((k) => /^(requests|limits)\.(cpu|memory|ephemeral-storage)$/.test(k) || k === 'cpu' || k === 'memory').sort();
  for (const k of names) {
    const [which, res] = k.includes('.') ? (k.split('.') as ['requests' | 'limits', string]) : (['requests', k] as const);
    const lacking = ((pod.spec?.containers ?? []) as Container[]).filter((c) => c.resources?.[which]?.[res] === undefined).map((c) => c.name);
    if (lacking.length) out.push(`${k} for: ${lacking.join(',')}`);
  }
  return out;
}

export function addUsage(a: Usage, b: Usage): Usage {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** The resource reference a quota name counts (count/deployments.apps → apps deployments), or undefined. */
export function countedResource(name: string): { group: string; resource: string } | undefined {
  if (LEGACY_COUNTS[name]) return { group: '', resource: name };
  if (/^(requests|limits)\.(cpu|memory|ephemeral-storage)$/.test(name) || name === 'cpu' || name === 'memory') return { group: '', resource: 'pods' };
  if (name === 'services.loadbalancers' || name === 'services.nodeports') return { group: '', resource: 'services' };
  if (name === 'requests.storage') return { group: '', resource: 'persistentvolumeclaims' };
  const m = /^count\/([a-z0-9-]+)(?:\.(.+))?$/.exec(name);
  return m ? { group: m[2] ?? '', resource: m[1]! } : undefined;
}

/** Usage of `objects` (all of one resource) for the names in `hard`. */
export function usageFor(ref: { group: string; resource: string }, objects: KubeObject[], names: string[]): Usage {
  const out: Usage = {};
  for (const n of names) if (sameRef(countedResource(n), ref)) out[n] = 0;
  for (const o of objects) {
    if (o.metadata.deletionTimestamp && ref.resource !== 'pods') continue;
    for (const [k, v] of Object.entries(usageOf(ref, o))) if (k in out) out[k]! += v;
  }
  return out;
}

const sameRef = (a: { group: string; resource: string } | undefined, b: { group: string; resource: string }) => !!a && a.group === b.group && a.resource === b.resource;

/** Prints a usage as Kubernetes does: `k=v,k=v` sorted by name, memory-like values in binary units when exact. */
export function prettyUsage(u: Usage, hard: ResourceList = {}): string {
  return Object.keys(u).sort().map((k) => `${k}=${formatLike(u[k]!, hard[k])}`).join(',');
}

/** Checks a create against one quota; returns the Kubernetes message or undefined. `used` is the current usage. */
export function quotaViolation(quota: KubeObject, requested: Usage, used: Usage, obj?: KubeObject, ref?: ResourceRef): string | undefined {
  const hard = (quota.spec?.hard ?? {}) as ResourceList;
  const name = quota.metadata.name;
  const relevant = Object.keys(requested).filter((k) => k in hard);
  if (ref && !ref.group && ref.resource === 'pods' && obj) {
    const missing = missingPodResources(obj, hard);
    if (missing.length) return `failed quota: ${name}: must specify ${missing.join('; ')}`;
  }
  const exceeded = relevant.filter((k) => (used[k] ?? 0) + requested[k]! > milli(hard[k]));
  if (!exceeded.length) return undefined;
  const pick = (u: Usage) => Object.fromEntries(exceeded.map((k) => [k, u[k] ?? 0]));
  const limited = Object.fromEntries(exceeded.map((k) => [k, milli(hard[k])]));
  return `exceeded quota: ${name}, requested: ${prettyUsage(pick(requested), hard)}, used: ${prettyUsage(pick(used), hard)}, limited: ${prettyUsage(limited, hard)}`;
}

interface ScopeRequirement { scopeName: string; operator?: string; values?: string[] }

const isBestEffort = (pod: KubeObject) => [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].every((c: Container) =>
  !Object.keys(c.resources?.requests ?? {}).length && !Object.keys(c.resources?.limits ?? {}).length);

function scopeMatches(req: ScopeRequirement, pod: KubeObject): boolean {
  switch (req.scopeName) {
    case 'Terminating': return pod.spec?.activeDeadlineSeconds !== undefined && pod.spec?.activeDeadlineSeconds !== null;
    case 'NotTerminating': return pod.spec?.activeDeadlineSeconds === undefined || pod.spec?.activeDeadlineSeconds === null;
    case 'BestEffort': return isBestEffort(pod);
    case 'NotBestEffort': return !isBestEffort(pod);
    case 'PriorityClass': {
      const pc = pod.spec?.priorityClassName as string | undefined;
      const op = req.operator ?? 'Exists';
      if (op === 'Exists') return !!pc;
      if (op === 'DoesNotExist') return !pc;
      if (op === 'In') return !!pc && (req.values ?? []).includes(pc);
      if (op === 'NotIn') return !pc || !(req.values ?? []).includes(pc);
      return false;
    }
    case 'CrossNamespacePodAffinity': {
      const terms = [...(pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []), ...(pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [])];
      return terms.some((x: { namespaces?: string[]; namespaceSelector?: unknown }) => x.namespaceSelector !== undefined || (x.namespaces ?? []).length > 0);
    }
    default: return false;
  }
}

/** Whether a quota's scopes (spec.scopes and spec.scopeSelector) select the object. Scoped quotas track pods only. */
export function quotaSelects(quota: KubeObject, ref: { group: string; resource: string }, obj: KubeObject): boolean {
  const reqs: ScopeRequirement[] = [
    ...((quota.spec?.scopes ?? []) as string[]).map((scopeName) => ({ scopeName, operator: 'Exists' })),
    ...((quota.spec?.scopeSelector?.matchExpressions ?? []) as ScopeRequirement[]),
  ];
  if (!reqs.length) return true;
  if (ref.group || ref.resource !== 'pods') return false;
  return reqs.every((r) => scopeMatches(r, obj));
}
