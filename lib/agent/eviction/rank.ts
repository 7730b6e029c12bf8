// Which pod the kubelet evicts first, and the message it leaves on it (pure). Memory: pods using more than they
// request first, then lower priority, then the most usage above request. Disk: the same with ephemeral storage
// (container writable layers, logs and emptyDirs against ephemeral-storage requests).
// PIDs: lower priority, then the most processes. Static, mirror and system-critical pods are never evicted.
import { quantity } from '../kubelet/quantity.ts';
import type { ContainerSpec, Pod } from '../kubelet/pod-types.ts';
import { qosClass } from '../kubelet/status.ts';
import { toleratedBy, type Toleration } from '../../scheduler/taints.ts';
import { thresholdQuantity, type Threshold } from './config.ts';
import { SIGNAL_RESOURCE, type Observations, type Resource } from './thresholds.ts';

export interface ContainerUsage { name: string; memoryBytes?: number; diskBytes?: number }
export interface PodUsage { containers: ContainerUsage[]; memoryBytes?: number; diskBytes?: number; processes?: number }
/** pod uid → usage; a pod without stats is ranked first, as upstream. */
export type UsageByPod = Map<string, PodUsage>;

export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

export function isCriticalPod(pod: Pod): boolean {
  const a = pod.metadata.annotations ?? {};
  if (a['kubernetes.io/config.mirror'] || (a['kubernetes.io/config.source'] && a['kubernetes.io/config.source'] !== 'api')) return true;
  return ((pod.spec as { priority?: number }).priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}

const requestOf = (c: ContainerSpec, r: string) => { try { return quantity(c.resources?.requests?.[r]); } catch { return 0; } };
const podRequest = (pod: Pod, r: string) => pod.spec.containers.reduce((a, c) => a + requestOf(c, r), 0);
const priorityOf = (pod: Pod) => (pod.spec as { priority?: number }).priority ?? 0;

type Cmp = (a: Pod, b: Pod) => number;

function usageOf(resource: Resource, u: PodUsage | undefined): number | undefined {
  if (!u) return undefined;
  if (resource === 'memory') return u.memoryBytes;
  if (resource === 'pids') return u.processes;
  return u.diskBytes;
}

const requestResource = (resource: Resource) => (resource === 'memory' ? 'memory' : 'ephemeral-storage');

/** Pods over their request first; a pod without stats before all. */
function exceedsRequests(resource: Resource, stats: UsageByPod): Cmp {
  return (a, b) => {
    const ua = usageOf(resource, stats.get(a.metadata.uid!));
    const ub = usageOf(resource, stats.get(b.metadata.uid!));
    if (ua === undefined || ub === undefined) return Number(ua !== undefined) - Number(ub !== undefined);
    const ea = ua > podRequest(a, requestResource(resource));
    const eb = ub > podRequest(b, requestResource(resource));
    return Number(eb) - Number(ea);
  };
}

const byPriority: Cmp = (a, b) => priorityOf(a) - priorityOf(b);

/** Most usage above request first (pids: most processes first). */
function byUsage(resource: Resource, stats: UsageByPod, aboveRequest: boolean): Cmp {
  return (a, b) => {
    const ua = usageOf(resource, stats.get(a.metadata.uid!));
    const ub = usageOf(resource, stats.get(b.metadata.uid!));
    if (ua === undefined || ub === undefined) return Number(ua !== undefined) - Number(ub !== undefined);
    const ra = aboveRequest ? podRequest(a, requestResource(resource)) : 0;
    const rb = aboveRequest ? podRequest(b, requestResource(resource)) : 0;
    return (ub - rb) - (ua - ra);
  };
}

/** Pods in eviction order for resource (a new array; input order breaks ties). */
export function rankPods(resource: Resource, pods: readonly Pod[], stats: UsageByPod): Pod[] {
  const cmps: Cmp[] = resource === 'pids'
    ? [byPriority, byUsage(resource, stats, false)]
    : [exceedsRequests(resource, stats), byPriority, byUsage(resource, stats, true)];
  return pods.map((p, i) => ({ p, i })).sort((x, y) => {
    for (const c of cmps) { const r = c(x.p, y.p); if (r) return r; }
    return x.i - y.i;
  }).map((x) => x.p);
}

/** A byte count the way resource.Quantity prints a BinarySI value: 100Mi, 1536Ki, 12345. */
export function formatQuantity(n: number): string {
  const v = Math.round(n);
  if (v === 0) return '0';
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  let i = 0;
  let x = v;
  while (i < suffixes.length - 1 && x % 1024 === 0 && Math.abs(x) >= 1024) { x /= 1024; i++; }
  return `${x}${suffixes[i]}`;
}

/** The kubelet's eviction message: "The node was low on resource: memory. Threshold quantity: 100Mi, available: 90Mi. Container x was using 120Mi, request is 0, has larger consumption of memory. " */
export function evictionMessage(resource: Resource, pod: Pod, usage: PodUsage | undefined, threshold: Threshold | undefined, obs: Observations): string {
  const fmt = resource === 'memory' || resource === 'ephemeral-storage' ? formatQuantity : (n: number) => String(Math.round(n));
  let msg = `The node was low on resource: ${resource}. `;
  const o = threshold && obs[threshold.signal];
  if (threshold && o) msg += `Threshold quantity: ${fmt(thresholdQuantity(threshold.value, o.capacity))}, available: ${fmt(o.available)}. `;
  if (resource === 'memory' || resource === 'ephemeral-storage') {
    for (const c of pod.spec.containers) {
      const u = usage?.containers.find((x) => x.name === c.name);
      const used = resource === 'memory' ? u?.memoryBytes : u?.diskBytes;
      const req = requestOf(c, resource);
      if (used !== undefined && used > req) msg += `Container ${c.name} was using ${formatQuantity(used)}, request is ${formatQuantity(req)}, has larger consumption of ${resource}. `;
    }
  }
  return msg;
}

/** The first acting threshold whose resource can be reclaimed. */
export function reclaimable(thresholds: readonly Threshold[]): { threshold: Threshold; resource: Resource } | undefined {
  const t = thresholds[0];
  return t ? { threshold: t, resource: SIGNAL_RESOURCE[t.signal] } : undefined;
}

/**
 * The kubelet's admission under pressure: critical pods always; under memory pressure alone, pods that are not
 * BestEffort or that tolerate the memory-pressure taint; under any other pressure, none. Returns the rejection.
 */
export function admitUnderPressure(pod: Pod, conditions: ReadonlySet<string>): { reason: string; message: string } | undefined {
  if (!conditions.size || isCriticalPod(pod)) return undefined;
  if (conditions.size === 1 && conditions.has('MemoryPressure')) {
    if (qosClass(pod) !== 'BestEffort') return undefined;
    if (toleratedBy((pod.spec as { tolerations?: Toleration[] }).tolerations, { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' })) return undefined;
  }
  const order = ['MemoryPressure', 'DiskPressure', 'PIDPressure'].filter((c) => conditions.has(c));
  return { reason: 'Evicted', message: `The node had condition: [${order.join(' ')}]. ` };
}
