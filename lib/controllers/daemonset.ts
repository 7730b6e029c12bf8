// DaemonSet controller: one pod per eligible node (created with a node-name affinity; the scheduler binds it),
// RollingUpdate (maxUnavailable / maxSurge) or OnDelete, ControllerRevision history and the status
// `kubectl rollout status ds` reads.
import { apps, core, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import { splitKey, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import type { EventRecorder } from '../controller/events.ts';
import { Expectations } from '../controller/expectations.ts';
import { logger } from '../log/logger.ts';
import type { ControllerContext, Runnable } from './context.ts';
import {
  ensureRevision, isOwnedBy, ownerKey, revisionData, revisionHash, revisionsRef, REVISION_HASH_LABEL, stableStringify, truncateHistory, watchChildren, requeueDelay,
} from './controller-revision.ts';
import {
  daemonSetStatus, FailedPodBackoff, newDaemonPod, nodeShouldRunDaemonPod, planManage, planRollingUpdate, type PlanInput,
} from './daemonset-plan.ts';

const log = logger('controller/daemonset');
const dsRef = apps('daemonsets');
const podsRef = core('pods');

export interface DaemonSetDeps {
  client: Client;
  clock: Clock;
  daemonSets: Lister;
  nodes: Lister;
  pods: Lister;
  revisions: Lister;
  recorder?: EventRecorder;
  failedBackoff?: FailedPodBackoff;
  expectations?: Expectations;
  requeueAfter?(key: string, ms: number): void;
}

export async function reconcileDaemonSet(deps: DaemonSetDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const ds = deps.daemonSets.get(name, namespace);
  if (!ds || ds.metadata.deletionTimestamp) return;
  const now = deps.clock.now();
  const nodes = deps.nodes.list();
  const pods = deps.pods.list(namespace).filter((p) => isOwnedBy(p, ds));
  const revisions = deps.revisions.list(namespace).filter((r) => isOwnedBy(r, ds));
  const { revision, collisionCount } = await ensureRevision(deps.client, {
    owner: ds, kind: 'DaemonSet', labels: ds.spec?.template?.metadata?.labels ?? {},
    data: revisionData(ds.spec?.template), collisionCount: ds.status?.collisionCount ?? 0,
  }, revisions);
  const hash = revisionHash(revision);
  const input: PlanInput = { ds, nodes, pods, hash, now, failedBackoff: deps.failedBackoff };
  // Until our informer has seen the pods we created or deleted, a second decision would double them.
  if (!deps.expectations || deps.expectations.satisfied(key)) await manage(deps, key, ds, input);
  const live = new Set([hash, revision.metadata.name!, ...pods.map((p) => p.metadata.labels?.[REVISION_HASH_LABEL] ?? '')]);
  await truncateHistory(deps.client, [...revisions.filter((r) => r.metadata.name !== revision.metadata.name), revision], live, ds.spec?.revisionHistoryLimit ?? 10);
  const status = daemonSetStatus(input, collisionCount);
  if (stableStringify(status) !== stableStringify(ds.status ?? {})) {
    await deps.client.update(dsRef, { ...structuredClone(ds), status } as KubeObject, 'status');
  }
  // Availability after minReadySeconds changes with time only.
  const minReady = ds.spec?.minReadySeconds ?? 0;
  if (minReady > 0 && status.numberAvailable !== status.numberReady) deps.requeueAfter?.(key, minReady * 1000);
}

async function manage(deps: DaemonSetDeps, key: string, ds: KubeObject, input: PlanInput): Promise<void> {
  const plan = planManage(input);
  if (plan.requeueAfter !== undefined) deps.requeueAfter?.(key, plan.requeueAfter);
  if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
    const desired = input.nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun).length;
    const doomed = new Set(plan.delete);
    const ru = planRollingUpdate({ ...input, pods: input.pods.filter((p) => !doomed.has(p)) }, desired);
    plan.delete.push(...ru.delete.filter((p) => !doomed.has(p)));
    plan.createOn.push(...ru.createOn.filter((n) => !plan.createOn.includes(n)));
  }
  if (!plan.delete.length && !plan.createOn.length) return;
  deps.expectations?.expect(key, plan.createOn.length, plan.delete.map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
  for (const p of plan.delete) {
    try {
      await deps.client.delete(podsRef, p.metadata.name!, p.metadata.namespace);
      deps.recorder?.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
    } catch (e) {
      deps.expectations?.deletionObserved(key, `${p.metadata.namespace}/${p.metadata.name}`);
      if (!isNotFound(e)) throw e;
    }
  }
  for (const [i, node] of plan.createOn.entries()) {
    try {
      const p = await deps.client.create(podsRef, newDaemonPod(ds, node, input.hash), ds.metadata.namespace);
      deps.recorder?.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}`);
    } catch (e) {
      deps.expectations?.lowerAdds(key, plan.createOn.length - i);
      deps.recorder?.event(ds, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
      throw e;
    }
  }
  log.debug('synced', { ds: key, created: plan.createOn.length, deleted: plan.delete.length });
}

/** The DaemonSet controller on the manager's shared informers. */
export function initDaemonSetController(ctx: ControllerContext): Runnable {
  const daemonSets = ctx.factory.informer(dsRef);
  const nodes = ctx.factory.informer(core('nodes'));
  const pods = ctx.factory.informer(podsRef);
  const revisions = ctx.factory.informer(revisionsRef);
  const deps: DaemonSetDeps = {
    client: ctx.client, clock: ctx.clock, daemonSets: daemonSets.lister, nodes: nodes.lister, pods: pods.lister,
    revisions: revisions.lister, recorder: ctx.recorder('daemonset-controller'), failedBackoff: new FailedPodBackoff(),
    expectations: new Expectations(ctx.clock),
  };
  const c = new Controller({ name: 'daemonset', clock: ctx.clock, workers: 2, reconcile: (key) => reconcileDaemonSet(deps, key) });
  deps.requeueAfter = (key, ms) => c.enqueueAfter(key, requeueDelay(ms));
  c.watch(daemonSets);
  watchChildren(c, pods, 'DaemonSet', deps.expectations);
  c.watch(revisions, (r) => ownerKey(r, 'DaemonSet'));
  // Any node change may change where daemons run: resync every DaemonSet.
  c.watch(nodes, () => daemonSets.lister.list().map((d) => `${d.metadata.namespace}/${d.metadata.name}`));
  return c;
}
