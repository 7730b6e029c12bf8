// StatefulSet controller: ordered (OrderedReady) or Parallel creation and deletion of <set>-<ordinal> pods with their
// claims, RollingUpdate with partition (highest ordinal first, one at a time, waiting for health) or OnDelete,
// ControllerRevisions (currentRevision/updateRevision) and the status `kubectl rollout status sts` reads.
import { apps, core, isAlreadyExists, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import { splitKey, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import type { EventRecorder } from '../controller/events.ts';
import type { ControllerContext, Runnable } from './context.ts';
import {
  ensureRevision, isOwnedBy, isPodAvailable, ownerKey, revisionData, revisionsRef, REVISION_HASH_LABEL, stableStringify, truncateHistory, requeueDelay,
} from './controller-revision.ts';
import {
  isFinished, isHealthy, isRunningAndReady, isTerminating, newClaims, newStatefulPod, ordinalOf,
} from './statefulset-pods.ts';

const stsRef = apps('statefulsets');
const podsRef = core('pods');
const pvcRef = core('persistentvolumeclaims');

export interface StatefulSetDeps {
  client: Client;
  clock: Clock;
  statefulSets: Lister;
  pods: Lister;
  claims: Lister;
  revisions: Lister;
  recorder?: EventRecorder;
  requeueAfter?(key: string, ms: number): void;
}

const templateOf = (rev: KubeObject | undefined, set: KubeObject) => (rev?.data?.spec?.template ? stripPatch(rev.data.spec.template) : set.spec?.template);
function stripPatch(t: Record<string, unknown>): KubeObject {
  const { $patch: _, ...rest } = t;
  return rest as KubeObject;
}

interface Ctx {
  deps: StatefulSetDeps;
  set: KubeObject;
  pods: Map<string, KubeObject>; // by name, as this sync leaves them
  created: Set<string>;
}

export async function reconcileStatefulSet(deps: StatefulSetDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const set = deps.statefulSets.get(name, namespace);
  if (!set) return;
  const now = deps.clock.now();
  const owned = deps.pods.list(namespace).filter((p) => isOwnedBy(p, set) && ordinalOf(set, p) !== undefined);
  const revisions = deps.revisions.list(namespace).filter((r) => isOwnedBy(r, set));
  const { revision: update, collisionCount } = await ensureRevision(deps.client, {
    owner: set, kind: 'StatefulSet', labels: set.spec?.template?.metadata?.labels ?? {},
    data: revisionData(set.spec?.template), collisionCount: set.status?.collisionCount ?? 0,
  }, revisions);
  const current = revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
  const ctx: Ctx = { deps, set, pods: new Map(owned.map((p) => [p.metadata.name!, p])), created: new Set() };
  if (!set.metadata.deletionTimestamp) await sync(ctx, current, update, now);
  const live = new Set([current.metadata.name!, update.metadata.name!, ...owned.map((p) => p.metadata.labels?.[REVISION_HASH_LABEL] ?? '')]);
  await truncateHistory(deps.client, [...revisions.filter((r) => r.metadata.name !== update.metadata.name), update], live, set.spec?.revisionHistoryLimit ?? 10);
  const status = statefulSetStatus(set, [...ctx.pods.values()], current.metadata.name!, update.metadata.name!, collisionCount, now);
  if (stableStringify(status) !== stableStringify(set.status ?? {})) {
    await deps.client.update(stsRef, { ...structuredClone(set), status } as KubeObject, 'status');
  }
  const minReady = set.spec?.minReadySeconds ?? 0;
  if (minReady > 0 && status.availableReplicas !== status.readyReplicas) deps.requeueAfter?.(key, minReady * 1000);
}

async function sync(ctx: Ctx, current: KubeObject, update: KubeObject, now: number): Promise<void> {
  const { set } = ctx;
  const replicas: number = set.spec?.replicas ?? 1;
  const start: number = set.spec?.ordinals?.start ?? 0;
  const monotonic = (set.spec?.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
  const minReady: number = set.spec?.minReadySeconds ?? 0;
  const strategy = set.spec?.updateStrategy?.type ?? 'RollingUpdate';
  const partition: number = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  const condemned = [...ctx.pods.values()].filter((p) => { const o = ordinalOf(set, p)!; return o < start || o >= start + replicas; })
    .sort((a, b) => ordinalOf(set, b)! - ordinalOf(set, a)!);
  // Which revision a missing ordinal gets: below the partition (RollingUpdate) it stays at the current one.
  const revisionFor = (ord: number) => (strategy === 'RollingUpdate' && ord - start < partition ? current : update);

  // Phase 1: create missing pods, replace finished ones, in ordinal order.
  for (let ord = start; ord < start + replicas; ord++) {
    const name = `${set.metadata.name}-${ord}`;
    let pod = ctx.pods.get(name);
    if (pod && isFinished(pod) && !isTerminating(pod)) {
      await deletePod(ctx, pod);
      if (monotonic) return;
      continue;
    }
    if (!pod) {
      const rev = revisionFor(ord);
      await createClaims(ctx, ord);
      pod = newStatefulPod(set, templateOf(rev, set), rev.metadata.name!, ord);
      await createPod(ctx, pod);
      if (monotonic) return;
      continue;
    }
    if (isTerminating(pod) && monotonic) return;
    await createClaims(ctx, ord); // claims deleted behind our back come back before the pod restarts
    if (monotonic && !isHealthy(pod, minReady, now)) return;
  }
  // Phase 2: scale down, highest ordinal first.
  for (const pod of condemned) {
    if (isTerminating(pod)) { if (monotonic) return; continue; }
    if (monotonic && !isRunningAndReady(pod) && pod !== condemned.find((p) => !isRunningAndReady(p) || isTerminating(p))) return;
    if (set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete') await claimsFollowPod(ctx, pod);
    await deletePod(ctx, pod);
    if (monotonic) return;
  }
  // Phase 3: rolling update from the highest ordinal down to the partition, one pod at a time.
  if (strategy !== 'RollingUpdate') return;
  for (let ord = start + replicas - 1; ord >= start + partition; ord--) {
    const pod = ctx.pods.get(`${set.metadata.name}-${ord}`);
    if (!pod) return;
    if (pod.metadata.labels?.[REVISION_HASH_LABEL] !== update.metadata.name && !isTerminating(pod)) {
      await deletePod(ctx, pod);
      return;
    }
    if (!isHealthy(pod, minReady, now)) return;
  }
}

async function createClaims(ctx: Ctx, ordinal: number): Promise<void> {
  for (const claim of newClaims(ctx.set, ordinal)) {
    if (ctx.deps.claims.get(claim.metadata.name!, claim.metadata.namespace)) continue;
    try {
      await ctx.deps.client.create(pvcRef, claim, claim.metadata.namespace);
      ctx.deps.recorder?.event(ctx.set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} for Pod ${ctx.set.metadata.name}-${ordinal} in StatefulSet ${ctx.set.metadata.name} success`);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
}

/** whenScaled: Delete — the condemned pod becomes an owner of its claims, so the garbage collector removes them after it. */
async function claimsFollowPod(ctx: Ctx, pod: KubeObject): Promise<void> {
  const ord = ordinalOf(ctx.set, pod)!;
  for (const want of newClaims(ctx.set, ord)) {
    const claim = ctx.deps.claims.get(want.metadata.name!, want.metadata.namespace);
    if (!claim || claim.metadata.ownerReferences?.some((r) => r.uid === pod.metadata.uid)) continue;
    const ownerReferences = [...(claim.metadata.ownerReferences ?? []), { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name!, uid: pod.metadata.uid! }];
    try {
      await ctx.deps.client.patch(pvcRef, claim.metadata.name!, 'merge', { metadata: { ownerReferences } }, { namespace: claim.metadata.namespace });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

async function createPod(ctx: Ctx, pod: KubeObject): Promise<void> {
  try {
    const created = await ctx.deps.client.create(podsRef, pod, pod.metadata.namespace);
    ctx.pods.set(pod.metadata.name!, created);
    ctx.created.add(pod.metadata.name!);
    ctx.deps.recorder?.event(ctx.set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${ctx.set.metadata.name} successful`);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

async function deletePod(ctx: Ctx, pod: KubeObject): Promise<void> {
  try {
    await ctx.deps.client.delete(podsRef, pod.metadata.name!, pod.metadata.namespace);
    ctx.deps.recorder?.event(ctx.set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${ctx.set.metadata.name} successful`);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  ctx.pods.delete(pod.metadata.name!);
}

/** Status over the pods as this sync left them; a finished rolling update makes the update revision current. */
export function statefulSetStatus(set: KubeObject, pods: KubeObject[], currentRevision: string, updateRevision: string, collisionCount: number, now: number): Record<string, any> {
  let ready = 0, available = 0, cur = 0, updated = 0;
  for (const p of pods) {
    if (isRunningAndReady(p) && !isTerminating(p)) {
      ready++;
      if (isPodAvailable(p, set.spec?.minReadySeconds ?? 0, now)) available++;
    }
    if (isTerminating(p)) continue;
    const h = p.metadata.labels?.[REVISION_HASH_LABEL];
    if (h === currentRevision) cur++;
    if (h === updateRevision) updated++;
  }
  const status: Record<string, any> = {
    observedGeneration: set.metadata.generation ?? 1, replicas: pods.length, readyReplicas: ready, currentReplicas: cur,
    updatedReplicas: updated, currentRevision, updateRevision, collisionCount, availableReplicas: available,
  };
  const rolling = (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  if (rolling && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
  if (set.status?.conditions) status.conditions = set.status.conditions;
  return status;
}

/** The StatefulSet controller on the manager's shared informers. */
export function initStatefulSetController(ctx: ControllerContext): Runnable {
  const statefulSets = ctx.factory.informer(stsRef);
  const pods = ctx.factory.informer(podsRef);
  const claims = ctx.factory.informer(pvcRef);
  const revisions = ctx.factory.informer(revisionsRef);
  const deps: StatefulSetDeps = {
    client: ctx.client, clock: ctx.clock, statefulSets: statefulSets.lister, pods: pods.lister, claims: claims.lister,
    revisions: revisions.lister, recorder: ctx.recorder('statefulset-controller'),
  };
  const c = new Controller({ name: 'statefulset', clock: ctx.clock, workers: 2, reconcile: (key) => reconcileStatefulSet(deps, key) });
  deps.requeueAfter = (key, ms) => c.enqueueAfter(key, requeueDelay(ms));
  c.watch(statefulSets);
  c.watch(pods, (p) => ownerKey(p, 'StatefulSet'));
  c.watch(revisions, (r) => ownerKey(r, 'StatefulSet'));
  return c;
}
