// Node lifecycle: a node whose heartbeat (its Lease in kube-node-lease, or its Ready condition's heartbeat) has
// not moved for the grace period (40 s) gets Ready=Unknown and its pods are marked not ready; Ready=False/Unknown
// become the not-ready/unreachable NoSchedule+NoExecute taints (spec.unschedulable the unschedulable taint), and
// pods that do not tolerate a NoExecute taint are evicted — at once, or after their tolerationSeconds counted from
// the taint's timeAdded. Taints go when the node is Ready again. Heartbeats are timed on this process's clock
// (when it saw them change), so clock skew between hosts does not matter. Nothing is written while nothing changes.
import { coordination, core, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import { byNodeName, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import type { EventRecorder } from '../controller/events.ts';
import { logger } from '../log/logger.ts';
import { tolerates, type Taint, type Toleration } from '../scheduler/taints.ts';
import { stableStringify } from './controller-revision.ts';
import type { ControllerContext, Runnable } from './context.ts';

const log = logger('controller/node-lifecycle');
const nodesRef = core('nodes');
const podsRef = core('pods');
export const NOT_READY = 'node.kubernetes.io/not-ready';
export const UNREACHABLE = 'node.kubernetes.io/unreachable';
export const UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
/** Conditions that become NoSchedule taints while True (Kubernetes' TaintNodesByCondition). */
const CONDITION_TAINTS: Record<string, string> = {
  MemoryPressure: 'node.kubernetes.io/memory-pressure',
  DiskPressure: 'node.kubernetes.io/disk-pressure',
  PIDPressure: 'node.kubernetes.io/pid-pressure',
  NetworkUnavailable: 'node.kubernetes.io/network-unavailable',
};
const MANAGED = new Set([NOT_READY, UNREACHABLE, UNSCHEDULABLE, ...Object.values(CONDITION_TAINTS)]);
const CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export interface NodeLifecycleDeps {
  client: Pick<Client, 'update' | 'delete'>;
  clock: Clock;
  nodes: Lister;
  leases: Lister;
  pods: Lister;
  gracePeriodMs?: number;
  startupGraceMs?: number;
  recorder?: EventRecorder;
  requeueAfter?(key: string, ms: number): void;
  /** node name → heartbeat signature and when this process saw it change. */
  observed?: Map<string, { sig: string; at: number }>;
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
type Cond = { type: string; status: string; reason?: string; message?: string; lastHeartbeatTime?: string; lastTransitionTime?: string };

export function desiredTaints(node: KubeObject, now: number): Taint[] {
  const conds: Cond[] = node.status?.conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready');
  const cur: Taint[] = node.spec?.taints ?? [];
  const want: Taint[] = cur.filter((t) => !MANAGED.has(t.key));
  const keep = (key: string, effect: string) => {
    const had = cur.find((t) => t.key === key && t.effect === effect);
    want.push(had ?? (effect === 'NoExecute' ? { key, effect, timeAdded: iso(now) } : { key, effect }));
  };
  if (ready?.status === 'False') { keep(NOT_READY, 'NoSchedule'); keep(NOT_READY, 'NoExecute'); }
  else if (ready?.status === 'Unknown') { keep(UNREACHABLE, 'NoSchedule'); keep(UNREACHABLE, 'NoExecute'); }
  else if (!ready) for (const t of cur) if (t.key === NOT_READY && t.effect === 'NoSchedule') want.push(t); // registering kubelet's own taint
  if (node.spec?.unschedulable) keep(UNSCHEDULABLE, 'NoSchedule');
  for (const c of conds) if (c.status === 'True' && CONDITION_TAINTS[c.type]) keep(CONDITION_TAINTS[c.type]!, 'NoSchedule');
  return want;
}

/** When a pod must be evicted given the node's NoExecute taints: a time, or undefined (tolerates forever). */
export function evictionTime(pod: KubeObject, taints: readonly Taint[]): number | undefined {
  const tols: Toleration[] = pod.spec?.tolerations ?? [];
  const noExec = taints.filter((t) => t.effect === 'NoExecute');
  const used = new Set<Toleration>();
  for (const t of noExec) {
    const matching = tols.filter((x) => tolerates(x, t));
    if (!matching.length) return 0;
    for (const m of matching) used.add(m);
  }
  // As Kubernetes' getMinTolerationTime: the smallest tolerationSeconds among the tolerations in use; none = forever.
  let secs = Infinity;
  for (const x of used) if (typeof x.tolerationSeconds === 'number') secs = Math.min(secs, Math.max(0, x.tolerationSeconds));
  if (secs === Infinity) return undefined;
  const base = Math.max(0, ...noExec.map((t) => (t.timeAdded ? Date.parse(t.timeAdded) : 0)));
  return base + secs * 1000;
}

export async function reconcileNode(d: NodeLifecycleDeps, name: string): Promise<void> {
  const observed = d.observed ?? new Map();
  let node = d.nodes.get(name);
  if (!node) { observed.delete(name); return; }
  const now = d.clock.now();
  const lease = d.leases.get(name, 'kube-node-lease');
  // A kubelet that renews sparingly declares a longer lease; never call it dead before its own lease expires.
  const grace = Math.max(d.gracePeriodMs ?? 40_000, (lease?.spec?.leaseDurationSeconds ?? 0) * 1000);
  const conds: Cond[] = node.status?.conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready');
  const sig = `${lease?.spec?.renewTime ?? ''}|${ready?.lastHeartbeatTime ?? ''}|${ready?.status ?? ''}`;
  let o = observed.get(name);
  // As upstream's node lifecycle controller: every node it starts tracking gets a RegisteredNode event.
  if (!o) d.recorder?.event({ ...node, apiVersion: 'v1', kind: 'Node' }, 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
  if (!o || o.sig !== sig) observed.set(name, (o = { sig, at: now }));
  const limit = ready ? grace : d.startupGraceMs ?? 60_000;
  if (now - o.at >= limit && ready?.status !== 'Unknown') {
    node = await markUnknown(d, node, now);
    await markPodsNotReady(d, name, now);
  } else if (ready?.status !== 'Unknown') {
    d.requeueAfter?.(name, o.at + limit - now);
  }
  const taints = desiredTaints(node, now);
  if (stableStringify(taints) !== stableStringify(node.spec?.taints ?? [])) {
    const upd = structuredClone(node) as KubeObject;
    upd.spec = { ...upd.spec, taints: taints.length ? taints : undefined };
    if (!taints.length) delete upd.spec.taints;
    node = await d.client.update(nodesRef, upd);
    log.info('node taints changed', { node: name, taints: taints.map((t) => `${t.key}:${t.effect}`) });
  }
  await evict(d, node, taints, now);
}

async function markUnknown(d: NodeLifecycleDeps, node: KubeObject, now: number): Promise<KubeObject> {
  const conds: Cond[] = structuredClone(node.status?.conditions ?? []);
  const t = iso(now);
  if (!conds.some((c) => c.type === 'Ready')) conds.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: t });
  for (const c of conds) {
    if (!CONDITIONS.includes(c.type) || c.status === 'Unknown') continue;
    Object.assign(c, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: t });
  }
  const upd = structuredClone(node) as KubeObject;
  upd.status = { ...upd.status, conditions: conds };
  log.warn('node stopped posting status', { node: node.metadata.name });
  d.recorder?.event({ ...node, apiVersion: 'v1', kind: 'Node' }, 'Normal', 'NodeNotReady', `Node ${node.metadata.name} status is now: NodeNotReady`);
  return d.client.update(nodesRef, upd, 'status');
}

async function markPodsNotReady(d: NodeLifecycleDeps, name: string, now: number): Promise<void> {
  for (const p of d.pods.byIndex('nodeName', name)) {
    const conds: Cond[] = p.status?.conditions ?? [];
    const r = conds.find((c) => c.type === 'Ready');
    if (!r || r.status !== 'True') continue;
    const upd = structuredClone(p) as KubeObject;
    upd.status.conditions = conds.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: iso(now) } : c));
    await d.client.update(podsRef, upd, 'status').catch((e) => log.debug('marking pod not ready failed', { pod: p.metadata.name, err: String(e) }));
  }
}

async function evict(d: NodeLifecycleDeps, node: KubeObject, taints: Taint[], now: number): Promise<void> {
  if (!taints.some((t) => t.effect === 'NoExecute')) return;
  let next: number | undefined;
  for (const p of d.pods.byIndex('nodeName', node.metadata.name!)) {
    if (p.metadata.deletionTimestamp || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    const at = evictionTime(p, taints);
    if (at === undefined) continue;
    if (at > now) { next = next === undefined ? at : Math.min(next, at); continue; }
    log.info('evicting pod from tainted node', { pod: `${p.metadata.namespace}/${p.metadata.name}`, node: node.metadata.name });
    d.recorder?.event({ ...p, apiVersion: 'v1', kind: 'Pod' }, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${p.metadata.namespace}/${p.metadata.name}`);
    await d.client.delete(podsRef, p.metadata.name!, p.metadata.namespace, { preconditions: { uid: p.metadata.uid } }).catch((e) => { if (!isNotFound(e)) throw e; });
  }
  if (next !== undefined) d.requeueAfter?.(node.metadata.name!, next - now);
}

export function nodeLifecycleController(ctx: ControllerContext): Runnable & { controller: Controller; deps: NodeLifecycleDeps } {
  const nodes = ctx.factory.informer(nodesRef);
  const leases = ctx.factory.informer(coordination('leases'), { namespace: 'kube-node-lease' });
  const pods = ctx.factory.informer(podsRef).addIndexer('nodeName', byNodeName);
  const deps: NodeLifecycleDeps = { client: ctx.client, clock: ctx.clock, nodes: nodes.lister, leases: leases.lister, pods: pods.lister, observed: new Map(), recorder: ctx.recorder('node-controller') };
  const controller = new Controller({ name: 'node-lifecycle', clock: ctx.clock, reconcile: (k) => reconcileNode(deps, k) });
  deps.requeueAfter = (k, ms) => controller.enqueueAfter(k, Math.max(ms, 100));
  controller.watch(nodes);
  leases.addHandler({ add: (l) => controller.enqueue(l.metadata.name!), update: (o, l) => { if (o !== l) controller.enqueue(l.metadata.name!); } });
  // A pod landing on a NoExecute-tainted node must be looked at too.
  pods.addHandler({ add: (p) => { if (p.spec?.nodeName) controller.enqueue(p.spec.nodeName); }, update: (o, p) => { if (o !== p && p.spec?.nodeName && (!o.spec?.nodeName || stableStringify(o.spec?.tolerations) !== stableStringify(p.spec?.tolerations))) controller.enqueue(p.spec.nodeName); } });
  return { controller, deps, run: (signal) => controller.run(signal) };
}
