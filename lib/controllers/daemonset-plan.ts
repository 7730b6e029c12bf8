// The DaemonSet controller's pure planning: which nodes should run a daemon pod, which pods to create and delete
// (including the RollingUpdate step with maxUnavailable/maxSurge), the pod to create, and the status.
import type { KubeObject } from '../client/types.ts';
import { matchesNodeAffinity } from '../scheduler/affinity.ts';
import { toleratedBy, type Taint, type Toleration } from '../scheduler/taints.ts';
import { isPodAvailable, isPodReady, ownerRefFor, REVISION_HASH_LABEL } from './controller-revision.ts';

export const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];
const NETWORK_UNAVAILABLE: Toleration = { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' };

/** The template's tolerations plus the ones every daemon pod gets (kept unique). */
export function daemonTolerations(podSpec: Record<string, any>): Toleration[] {
  const out: Toleration[] = [...(podSpec.tolerations ?? [])];
  const extra = podSpec.hostNetwork ? [...DAEMON_TOLERATIONS, NETWORK_UNAVAILABLE] : DAEMON_TOLERATIONS;
  for (const t of extra) if (!out.some((o) => o.key === t.key && o.effect === t.effect && (o.operator ?? 'Equal') === t.operator)) out.push(t);
  return out;
}

/** shouldRun: a new daemon pod may start there; shouldContinueRunning: an existing one may stay. */
export function nodeShouldRunDaemonPod(node: KubeObject, ds: KubeObject): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = ds.spec?.template?.spec ?? {};
  const pod = { metadata: {}, spec } as KubeObject;
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!matchesNodeAffinity(pod, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tols = daemonTolerations(spec);
  const untolerated = ((node.spec?.taints ?? []) as Taint[]).filter((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !toleratedBy(tols, t));
  if (untolerated.some((t) => t.effect === 'NoExecute')) return { shouldRun: false, shouldContinueRunning: false };
  if (untolerated.length) return { shouldRun: false, shouldContinueRunning: true };
  return { shouldRun: true, shouldContinueRunning: true };
}

/** The node a daemon pod is for: spec.nodeName, or the node-name matchFields term the controller put in. */
export function targetNodeName(pod: KubeObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/** The pod for node: template + revision hash label + daemon tolerations + node-name affinity (the scheduler binds it). */
export function newDaemonPod(ds: KubeObject, nodeName: string, hash: string): KubeObject {
  const tmpl = structuredClone(ds.spec?.template ?? {}) as KubeObject;
  const spec = tmpl.spec ?? {};
  spec.tolerations = daemonTolerations(spec);
  const nodeAffinity = { ...(spec.affinity?.nodeAffinity ?? {}) };
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
  };
  spec.affinity = { ...(spec.affinity ?? {}), nodeAffinity };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: `${ds.metadata.name}-`, namespace: ds.metadata.namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
      ...(tmpl.metadata?.annotations ? { annotations: { ...tmpl.metadata.annotations } } : {}),
      ownerReferences: [ownerRefFor(ds, 'DaemonSet')],
    },
    spec,
  };
}

const created = (p: KubeObject) => p.metadata.creationTimestamp ?? '';
const oldestFirst = (a: KubeObject, b: KubeObject) => created(a).localeCompare(created(b)) || (a.metadata.name! < b.metadata.name! ? -1 : 1);
const isUpdated = (p: KubeObject, hash: string) => p.metadata.labels?.[REVISION_HASH_LABEL] === hash;

export interface DaemonPlan {
  createOn: string[];
  delete: KubeObject[];
  /** Ask for another sync after this many ms (a failed pod waiting out its backoff). */
  requeueAfter?: number;
}

/** Per (DaemonSet, node) backoff before killing a failed daemon pod again: 1 s doubling to 15 min. */
export class FailedPodBackoff {
  #entries = new Map<string, { delay: number; last: number }>();
  /** Remaining wait in ms (0 when not backing off). */
  remaining(key: string, now: number): number {
    const e = this.#entries.get(key);
    return e ? Math.max(0, e.last + e.delay - now) : 0;
  }
  next(key: string, now: number): void {
    const e = this.#entries.get(key);
    const delay = e && now - e.last < 2 * 15 * 60_000 ? Math.min(e.delay * 2, 15 * 60_000) : 1000;
    this.#entries.set(key, { delay, last: now });
  }
}

/** Scaled int-or-percent, rounding up as the DaemonSet controller does. */
export function scaled(v: number | string | undefined, total: number, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (m) return Math.ceil((Number(m[1]) * total) / 100);
  return Number(v) || 0;
}

export interface PlanInput {
  ds: KubeObject;
  nodes: KubeObject[];
  /** Daemon pods owned by ds. */
  pods: KubeObject[];
  hash: string;
  now: number;
  failedBackoff?: FailedPodBackoff;
}

export function groupByNode(pods: KubeObject[]): Map<string, KubeObject[]> {
  const m = new Map<string, KubeObject[]>();
  for (const p of pods) {
    const n = targetNodeName(p) ?? '';
    m.set(n, [...(m.get(n) ?? []), p]);
  }
  return m;
}

/** The manage step: create missing daemon pods, delete ones that must not run, failed ones and duplicates. */
export function planManage({ ds, nodes, pods, hash, now, failedBackoff }: PlanInput): DaemonPlan {
  const byNode = groupByNode(pods);
  const surge = allowsSurge(ds);
  const plan: DaemonPlan = { createOn: [], delete: [] };
  const nodeNames = new Set(nodes.map((n) => n.metadata.name!));
  for (const node of [...nodes].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1))) {
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const onNode = byNode.get(node.metadata.name!) ?? [];
    if (!shouldContinueRunning) {
      plan.delete.push(...onNode.filter((p) => !p.metadata.deletionTimestamp));
      continue;
    }
    const running: KubeObject[] = [];
    let deleting = false;
    for (const p of onNode) {
      if (p.metadata.deletionTimestamp) { deleting = true; continue; }
      if (p.status?.phase === 'Failed') {
        const key = `${ds.metadata.uid}/${node.metadata.name}`;
        const wait = failedBackoff?.remaining(key, now) ?? 0;
        if (wait > 0) {
          plan.requeueAfter = Math.min(plan.requeueAfter ?? Infinity, wait);
          deleting = true; // neither replace it nor start another while backing off
          continue;
        }
        failedBackoff?.next(key, now);
        plan.delete.push(p);
        continue;
      }
      running.push(p);
    }
    if (!running.length) {
      if (shouldRun && !deleting) plan.createOn.push(node.metadata.name!);
      continue;
    }
    running.sort(oldestFirst);
    if (!surge) plan.delete.push(...running.slice(1));
    else {
      const newest = running.filter((p) => isUpdated(p, hash)), old = running.filter((p) => !isUpdated(p, hash));
      plan.delete.push(...newest.slice(1), ...old.slice(1));
    }
  }
  for (const [n, ps] of byNode) if (!nodeNames.has(n)) plan.delete.push(...ps.filter((p) => !p.metadata.deletionTimestamp && n !== ''));
  return plan;
}

const allowsSurge = (ds: KubeObject) =>
  ds.spec?.updateStrategy?.type !== 'OnDelete' && scaled(ds.spec?.updateStrategy?.rollingUpdate?.maxSurge, 1, 0) > 0;

/** The RollingUpdate step (Kubernetes' rollingUpdate): which old pods to delete, which nodes get a surge pod. */
export function planRollingUpdate({ ds, nodes, pods, hash, now }: PlanInput, desired: number): DaemonPlan {
  const ru = ds.spec?.updateStrategy?.rollingUpdate ?? {};
  const maxSurge = scaled(ru.maxSurge, desired, 0);
  const maxUnavailable = maxSurge === 0 ? Math.max(1, scaled(ru.maxUnavailable, desired, 1)) : scaled(ru.maxUnavailable, desired, 1);
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const grouped = groupByNode(pods.filter((p) => p.status?.phase !== 'Failed'));
  // Every node that should keep a daemon: a node with no live pod or a terminating one is busy (unavailable).
  const byNode: [string, KubeObject[]][] = [];
  let busy = 0;
  for (const n of [...nodes].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1))) {
    if (!nodeShouldRunDaemonPod(n, ds).shouldContinueRunning) continue;
    const ps = grouped.get(n.metadata.name!) ?? [];
    const live = ps.filter((p) => !p.metadata.deletionTimestamp);
    if (!live.length || live.length < ps.length) { busy++; continue; }
    byNode.push([n.metadata.name!, live]);
  }
  const plan: DaemonPlan = { createOn: [], delete: [] };
  if (maxSurge === 0) {
    let unavailable = busy;
    const allowed: KubeObject[] = [], candidates: KubeObject[] = [];
    for (const [, ps] of byNode) {
      const newPod = ps.filter((p) => isUpdated(p, hash)), oldPod = ps.filter((p) => !isUpdated(p, hash));
      if (newPod.length > 1 || oldPod.length > 1 || (newPod.length && oldPod.length)) { unavailable++; continue; }
      if (newPod[0]) { if (!isPodAvailable(newPod[0], minReady, now)) unavailable++; continue; }
      const old = oldPod[0]!;
      if (!isPodAvailable(old, minReady, now)) allowed.push(old);
      else if (unavailable < maxUnavailable) candidates.push(old);
    }
    const remaining = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
    plan.delete.push(...allowed, ...candidates.slice(0, remaining));
    return plan;
  }
  let surged = busy;
  const allowedNodes: string[] = [], candidateNodes: string[] = [];
  for (const [node, ps] of byNode) {
    const newPod = ps.filter((p) => isUpdated(p, hash)).sort(oldestFirst)[0], oldPod = ps.filter((p) => !isUpdated(p, hash)).sort(oldestFirst)[0];
    if (!oldPod) continue;
    if (!newPod) {
      if (!isPodAvailable(oldPod, minReady, now)) allowedNodes.push(node);
      else if (surged < maxSurge) candidateNodes.push(node);
      continue;
    }
    if (!isPodAvailable(newPod, minReady, now)) { surged++; continue; }
    plan.delete.push(oldPod);
  }
  const remaining = Math.min(Math.max(0, maxSurge - surged), candidateNodes.length);
  plan.createOn.push(...allowedNodes, ...candidateNodes.slice(0, remaining));
  return plan;
}

/** DaemonSet status as Kubernetes' updateDaemonSetStatus computes it. */
export function daemonSetStatus({ ds, nodes, pods, hash, now }: PlanInput, collisionCount: number): Record<string, unknown> {
  const byNode = groupByNode(pods.filter((p) => !p.metadata.deletionTimestamp));
  let desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
  for (const node of nodes) {
    const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
    const onNode = (byNode.get(node.metadata.name!) ?? []).sort(oldestFirst);
    if (!shouldRun) { if (onNode.length) misscheduled++; continue; }
    desired++;
    if (!onNode.length) continue;
    current++;
    const p = onNode[0]!;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, ds.spec?.minReadySeconds ?? 0, now)) available++;
    }
    if (isUpdated(p, hash)) updated++;
  }
  const status: Record<string, unknown> = {
    currentNumberScheduled: current, numberMisscheduled: misscheduled, desiredNumberScheduled: desired, numberReady: ready,
    observedGeneration: ds.metadata.generation ?? 1, updatedNumberScheduled: updated, numberAvailable: available,
    numberUnavailable: desired - available,
  };
  if (collisionCount) status.collisionCount = collisionCount;
  if (ds.status?.conditions) status.conditions = ds.status.conditions;
  return status;
}
