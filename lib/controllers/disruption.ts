// Disruption controller: keeps PodDisruptionBudget status (expectedPods, desiredHealthy, currentHealthy,
// disruptionsAllowed, DisruptionAllowed condition) from minAvailable/maxUnavailable against the scale of the pods'
// controllers, so the eviction API can respect it. Expires status.disruptedPods entries the eviction API added.
import { apps, core, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import { splitKey, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import { matchesSelector } from '../controller/selector.ts';
import { logger } from '../log/logger.ts';
import type { ControllerContext, Runnable } from './context.ts';
import { controllerOf, isPodReady, stableStringify, requeueDelay } from './controller-revision.ts';
import { setCondition, type JobCondition } from './job-pods.ts';

const log = logger('controller/disruption');
const pdbRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };
const DISRUPTED_POD_TIMEOUT_MS = 2 * 60_000;

export interface DisruptionDeps {
  client: Client;
  clock: Clock;
  pdbs: Lister;
  pods: Lister;
  requeueAfter?(key: string, ms: number): void;
}

/** int-or-percent against total; percentages round up. */
export function scaledValue(v: number | string, total: number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: ${v}`);
  return Math.ceil((Number(m[1]) * total) / 100);
}

/** The replicas the pods' controllers want (Deployment via its ReplicaSet, ReplicaSet, RC, StatefulSet). */
async function expectedScale(client: Client, namespace: string, pods: KubeObject[]): Promise<number> {
  const seen = new Map<string, number>();
  for (const pod of pods) {
    const ref = controllerOf(pod);
    if (!ref) throw new Error(`found no controller ref for pod "${pod.metadata.name}"`);
    if (seen.has(ref.uid)) continue;
    seen.set(ref.uid, await scaleOf(client, namespace, ref.kind, ref.name, ref.uid));
  }
  let total = 0;
  for (const n of seen.values()) total += n;
  return total;
}

async function scaleOf(client: Client, namespace: string, kind: string, name: string, uid: string): Promise<number> {
  const refs: Record<string, { group: string; version: string; resource: string }> = {
    ReplicaSet: apps('replicasets'), StatefulSet: apps('statefulsets'), ReplicationController: core('replicationcontrollers'), Deployment: apps('deployments'),
  };
  const ref = refs[kind];
  if (!ref) throw new Error(`unable to find the scale of controller ${kind} "${name}"`);
  const obj = await client.get(ref, name, namespace);
  if (obj.metadata.uid !== uid) throw new Error(`controller ${kind} "${name}" was replaced`);
  if (kind === 'ReplicaSet') {
    const owner = controllerOf(obj);
    if (owner?.kind === 'Deployment') {
      const d = await client.get(apps('deployments'), owner.name, namespace);
      return d.spec?.replicas ?? 1;
    }
  }
  return obj.spec?.replicas ?? 1;
}

export async function reconcileDisruptionBudget(deps: DisruptionDeps, key: string): Promise<void> {
  const { namespace = '', name } = splitKey(key);
  const pdb = deps.pdbs.get(name, namespace);
  if (!pdb || pdb.metadata.deletionTimestamp) return;
  const now = deps.clock.now();
  const pods = deps.pods.list(namespace).filter((p) => matchesSelector(pdb.spec?.selector, p.metadata.labels));
  const status = structuredClone(pdb.status ?? {}) as Record<string, any>;
  // Pods the eviction API just evicted do not count as healthy until they are gone or the entry expires.
  const disrupted: Record<string, string> = {};
  let nextExpiry = Infinity;
  for (const [pod, at] of Object.entries((status.disruptedPods ?? {}) as Record<string, string>)) {
    const p = pods.find((x) => x.metadata.name === pod);
    const expires = Date.parse(at) + DISRUPTED_POD_TIMEOUT_MS;
    if (!p || p.metadata.deletionTimestamp || expires <= now) continue;
    disrupted[pod] = at;
    nextExpiry = Math.min(nextExpiry, expires);
  }
  let expected: number, desired: number;
  try {
    ({ expected, desired } = await budget(deps.client, pdb, namespace, pods));
  } catch (e) {
    const msg = (e as Error).message;
    log.debug('cannot compute budget', { pdb: key, err: msg });
    Object.assign(status, { disruptionsAllowed: 0, observedGeneration: pdb.metadata.generation ?? 1 });
    status.conditions = setCondition(status.conditions ?? [], { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: msg } as JobCondition, iso(now));
    await write(deps, pdb, status);
    throw e;
  }
  const healthy = pods.filter((p) => !p.metadata.deletionTimestamp && isPodReady(p) && !disrupted[p.metadata.name!]).length;
  const allowed = expected <= 0 ? 0 : Math.max(0, healthy - desired);
  Object.assign(status, { currentHealthy: healthy, desiredHealthy: desired, expectedPods: expected, disruptionsAllowed: allowed, observedGeneration: pdb.metadata.generation ?? 1 });
  if (Object.keys(disrupted).length) status.disruptedPods = disrupted; else delete status.disruptedPods;
  const cond = allowed > 0
    ? { type: 'DisruptionAllowed', status: 'True' as const, reason: 'SufficientPods', message: '' }
    : { type: 'DisruptionAllowed', status: 'False' as const, reason: 'InsufficientPods', message: '' };
  status.conditions = setCondition((status.conditions ?? []) as JobCondition[], cond, iso(now)).map(({ lastProbeTime: _, ...c }) => c);
  await write(deps, pdb, status);
  if (nextExpiry < Infinity) deps.requeueAfter?.(key, nextExpiry - now);
}

async function budget(client: Client, pdb: KubeObject, namespace: string, pods: KubeObject[]): Promise<{ expected: number; desired: number }> {
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const expected = await expectedScale(client, namespace, pods);
    return { expected, desired: Math.max(0, expected - scaledValue(maxUnavailable, expected)) };
  }
  if (typeof minAvailable === 'string') {
    const expected = await expectedScale(client, namespace, pods);
    return { expected, desired: scaledValue(minAvailable, expected) };
  }
  return { expected: pods.length, desired: typeof minAvailable === 'number' ? minAvailable : 1 };
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

async function write(deps: DisruptionDeps, pdb: KubeObject, status: Record<string, any>): Promise<void> {
  if (stableStringify(status) === stableStringify(pdb.status ?? {})) return;
  try {
    await deps.client.update(pdbRef, { ...structuredClone(pdb), status } as KubeObject, 'status');
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** The disruption controller on the manager's shared informers. */
export function initDisruptionController(ctx: ControllerContext): Runnable {
  const pdbs = ctx.factory.informer(pdbRef);
  const pods = ctx.factory.informer(core('pods'));
  const deps: DisruptionDeps = { client: ctx.client, clock: ctx.clock, pdbs: pdbs.lister, pods: pods.lister };
  const c = new Controller({ name: 'disruption', clock: ctx.clock, reconcile: (key) => reconcileDisruptionBudget(deps, key) });
  deps.requeueAfter = (key, ms) => c.enqueueAfter(key, requeueDelay(ms));
  c.watch(pdbs);
  c.watch(pods, (p) => pdbs.lister.list(p.metadata.namespace)
    .filter((b) => matchesSelector(b.spec?.selector, p.metadata.labels))
    .map((b) => `${b.metadata.namespace}/${b.metadata.name}`));
  return c;
}
