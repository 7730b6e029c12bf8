// Deployment controller: one ReplicaSet per pod template (named <deployment>-<pod-template-hash>), rolled by
// RollingUpdate (maxSurge/maxUnavailable) or Recreate, paused/resumed, with revision annotations that
// `kubectl rollout history/undo` read, revisionHistoryLimit cleanup, and status/conditions that make
// `kubectl rollout status` exact (Progressing with progressDeadlineSeconds, Available).
import { apps, isAlreadyExists, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import { keyOf, splitKey, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import type { EventRecorder } from '../controller/events.ts';
import { isEmptySelector, matchesSelector } from '../controller/selector.ts';
import { stableStringify } from './controller-revision.ts';
import type { ControllerContext, Runnable } from './context.ts';
import {
  DESIRED, HASH_LABEL, isScalingEvent, MAX_REPLICAS, maxRevision, proportionalScale, newRSReplicas, replicasOf, resolveFenceposts, revisionOf, REVISION, rsAnnotations, scaleDownOld,
  setCondition, splitReplicaSets, templateHash, type DeploymentCondition,
} from './deployment-util.ts';
import { adopt, claim, controllerRef, release, type OwnerKind } from './pod-control.ts';

const deploymentsRef = apps('deployments');
const rsRef = apps('replicasets');
export const deploymentKind: OwnerKind = { ref: deploymentsRef, kind: 'Deployment', apiVersion: 'apps/v1' };

export interface DeploymentDeps {
  client: Client;
  clock: Clock;
  deployments: Lister;
  replicaSets: Lister;
  recorder?: EventRecorder;
  requeueAfter?(key: string, ms: number): void;
}

interface Run {
  d: DeploymentDeps;
  key: string;
  dep: KubeObject;
  rss: KubeObject[];
  created?: KubeObject;
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export async function reconcileDeployment(d: DeploymentDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const dep = d.deployments.get(name, namespace);
  if (!dep) return;
  const sel = dep.spec?.selector;
  const ev = { ...dep, apiVersion: 'apps/v1', kind: 'Deployment' };
  if (!sel || isEmptySelector(sel)) {
    d.recorder?.event(ev, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
    return;
  }
  const c = claim(dep, d.replicaSets.list(namespace), (l) => matchesSelector(sel, l));
  for (const rs of c.release) await release(d.client, rsRef, rs, dep).catch(ignoreNotFound);
  const rss = [...c.owned];
  for (const rs of c.adopt) {
    try { rss.push(await adopt(d.client, rsRef, rs, dep, deploymentKind)); } catch (e) { ignoreNotFound(e); }
  }
  const run: Run = { d, key, dep, rss };
  if (dep.metadata.deletionTimestamp) return syncStatus(run);
  if (dep.spec?.paused || isScalingEvent(dep, rss)) return syncScale(run);
  if (dep.spec?.strategy?.type === 'Recreate') return rolloutRecreate(run);
  return rolloutRolling(run);
}

async function rolloutRolling(run: Run): Promise<void> {
  const newRS = await ensureNewRS(run, true);
  const { old } = splitReplicaSets(run.dep, run.rss);
  const want = newRSReplicas(run.dep, run.rss, newRS!);
  if (want !== replicasOf(newRS!)) {
    await scale(run, newRS!, want);
    return syncStatus(run);
  }
  for (const [rs, n] of scaleDownOld(run.dep, old, newRS)) await scale(run, rs, n);
  await cleanup(run);
  return syncStatus(run);
}

async function rolloutRecreate(run: Run): Promise<void> {
  let newRS = await ensureNewRS(run, false);
  const { old } = splitReplicaSets(run.dep, run.rss);
  const active = old.filter((rs) => replicasOf(rs) > 0);
  if (active.length) {
    for (const rs of active) await scale(run, rs, 0);
    return syncStatus(run);
  }
  if (old.some((rs) => (rs.status?.replicas ?? 0) > 0)) return syncStatus(run); // wait for old pods to go
  if (!newRS) newRS = await ensureNewRS(run, true);
  const desired = run.dep.spec?.replicas ?? 1;
  if (replicasOf(newRS!) !== desired) await scale(run, newRS!, desired);
  await cleanup(run);
  return syncStatus(run);
}

/** Paused or scaled: no new ReplicaSet and no rollout step, only (proportional) scaling of the existing sets. */
async function syncScale(run: Run): Promise<void> {
  const newRS = await ensureNewRS(run, false);
  const { old } = splitReplicaSets(run.dep, run.rss);
  for (const [rs, n] of proportionalScale(run.dep, newRS, old)) await scale(run, rs, n);
  if (run.dep.spec?.paused) await cleanup(run);
  return syncStatus(run);
}

/** Finds the ReplicaSet of the current template (bumping its revision after a rollback) or creates it. */
async function ensureNewRS(run: Run, create: boolean): Promise<KubeObject | undefined> {
  const { d, dep } = run;
  const { newRS, old } = splitReplicaSets(dep, run.rss);
  const revision = maxRevision(old) + 1;
  let result = newRS;
  if (newRS) {
    const ann = { ...newRS.metadata.annotations, ...rsAnnotations(dep, Math.max(revision, revisionOf(newRS))) };
    const minReady = dep.spec?.minReadySeconds ?? 0;
    if (stableStringify(ann) !== stableStringify(newRS.metadata.annotations ?? {}) || (newRS.spec?.minReadySeconds ?? 0) !== minReady) {
      const upd = structuredClone(newRS) as KubeObject;
      upd.metadata.annotations = ann;
      upd.spec = { ...upd.spec, minReadySeconds: minReady };
      result = await d.client.update(rsRef, upd);
      replaceRS(run, newRS, result);
    }
  } else if (create) {
    result = await createRS(run, revision, old);
    if (!result) return undefined;
  } else return undefined;
  await syncRevisionAnnotation(run, String(revisionOf(result!)));
  return result;
}

async function createRS(run: Run, revision: number, old: KubeObject[]): Promise<KubeObject | undefined> {
  const { d, dep } = run;
  const hash = templateHash(dep);
  const tmpl = structuredClone(dep.spec.template) as KubeObject;
  tmpl.metadata = { ...tmpl.metadata, labels: { ...tmpl.metadata?.labels, [HASH_LABEL]: hash } };
  const stub: KubeObject = { metadata: { name: 'new' }, spec: { replicas: 0 } };
  const replicas = dep.spec?.strategy?.type === 'Recreate' ? dep.spec?.replicas ?? 1 : newRSReplicas(dep, [...old, stub], stub);
  const rs: KubeObject = {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name: `${dep.metadata.name}-${hash}`, namespace: dep.metadata.namespace, labels: { ...tmpl.metadata!.labels },
      annotations: rsAnnotations(dep, revision), ownerReferences: [controllerRef(dep, deploymentKind)],
    },
    spec: {
      replicas, minReadySeconds: dep.spec?.minReadySeconds ?? 0,
      selector: { ...dep.spec.selector, matchLabels: { ...dep.spec.selector.matchLabels, [HASH_LABEL]: hash } },
      template: tmpl,
    },
  };
  try {
    const created = await d.client.create(rsRef, rs, dep.metadata.namespace);
    run.rss.push(created);
    run.created = created;
    // As upstream: no event for a new replica set created at 0 (a paused or capped rollout).
    if (replicas > 0) d.recorder?.event({ ...dep, apiVersion: 'apps/v1', kind: 'Deployment' }, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`);
    return created;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    // Same name, different template: a hash collision. Bump collisionCount so the next try hashes differently.
    const existing = d.replicaSets.get(rs.metadata.name!, dep.metadata.namespace);
    if (existing && splitReplicaSets(dep, [existing]).newRS) throw new Error(`replica set ${rs.metadata.name} exists but is not in the cache yet`);
    const status = { ...structuredClone(dep.status ?? {}), collisionCount: (dep.status?.collisionCount ?? 0) + 1 };
    await d.client.update(deploymentsRef, { ...structuredClone(dep), status } as KubeObject, 'status');
    throw new Error(`hash collision for replica set ${rs.metadata.name}; collisionCount now ${status.collisionCount}`);
  }
}

async function syncRevisionAnnotation(run: Run, revision: string): Promise<void> {
  if (run.dep.metadata.annotations?.[REVISION] === revision) return;
  const upd = structuredClone(run.dep) as KubeObject;
  upd.metadata.annotations = { ...upd.metadata.annotations, [REVISION]: revision };
  run.dep = await run.d.client.update(deploymentsRef, upd);
}

async function scale(run: Run, rs: KubeObject, replicas: number): Promise<void> {
  const from = replicasOf(rs);
  const upd = structuredClone(rs) as KubeObject;
  upd.spec = { ...upd.spec, replicas };
  const ann = rsAnnotations(run.dep, revisionOf(rs));
  upd.metadata.annotations = { ...upd.metadata.annotations, [DESIRED]: ann[DESIRED]!, [MAX_REPLICAS]: ann[MAX_REPLICAS]! };
  if (from === replicas && stableStringify(upd.metadata.annotations) === stableStringify(rs.metadata.annotations ?? {})) return;
  const saved = await run.d.client.update(rsRef, upd);
  replaceRS(run, rs, saved);
  if (from === replicas) return;
  run.d.recorder?.event({ ...run.dep, apiVersion: 'apps/v1', kind: 'Deployment' }, 'Normal', 'ScalingReplicaSet',
    `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${replicas}`);
}

function replaceRS(run: Run, old: KubeObject, next: KubeObject): void {
  const i = run.rss.indexOf(old);
  if (i >= 0) run.rss[i] = next;
}

/** Deletes the oldest scaled-down ReplicaSets beyond revisionHistoryLimit (default 10). */
async function cleanup(run: Run): Promise<void> {
  const limit = run.dep.spec?.revisionHistoryLimit ?? 10;
  const { old } = splitReplicaSets(run.dep, run.rss);
  const idle = old.filter((rs) => replicasOf(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp)
    .sort((a, b) => revisionOf(a) - revisionOf(b));
  for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
    await run.d.client.delete(rsRef, rs.metadata.name!, rs.metadata.namespace, { preconditions: { uid: rs.metadata.uid } }).catch(ignoreNotFound);
  }
}

async function syncStatus(run: Run): Promise<void> {
  const { d, dep, key } = run;
  const now = d.clock.now();
  const nowS = iso(now);
  const { newRS } = splitReplicaSets(dep, run.rss);
  const desired = dep.spec?.replicas ?? 1;
  const sum = (f: (rs: KubeObject) => number) => run.rss.reduce((s, rs) => s + f(rs), 0);
  const prev: Record<string, any> = dep.status ?? {};
  const status: Record<string, any> = {
    observedGeneration: dep.metadata.generation ?? 0,
    replicas: sum((rs) => rs.status?.replicas ?? 0),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: sum((rs) => rs.status?.availableReplicas ?? 0),
  };
  status.unavailableReplicas = Math.max(0, sum(replicasOf) - status.availableReplicas);
  if (prev.collisionCount) status.collisionCount = prev.collisionCount;
  let conds: DeploymentCondition[] = structuredClone(prev.conditions ?? []);
  const { maxUnavailable } = resolveFenceposts(dep);
  conds = status.availableReplicas >= desired - maxUnavailable
    ? setCondition(conds, { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }, nowS)
    : setCondition(conds, { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, nowS);
  const rsName = newRS?.metadata.name;
  const complete = status.updatedReplicas === desired && status.replicas === desired && status.availableReplicas === desired && status.observedGeneration >= (dep.metadata.generation ?? 0);
  const prog = conds.find((c) => c.type === 'Progressing');
  const deadline = dep.spec?.progressDeadlineSeconds;
  if (dep.spec?.paused) {
    conds = setCondition(conds, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, nowS);
  } else if (prog?.reason === 'DeploymentPaused') {
    conds = setCondition(conds, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' }, nowS);
  } else if (run.created) {
    conds = setCondition(conds, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` }, nowS);
  } else if (rsName && complete) {
    conds = setCondition(conds, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }, nowS);
  } else if (rsName) {
    const progressed = !prev.conditions || status.updatedReplicas > (prev.updatedReplicas ?? 0) || status.readyReplicas > (prev.readyReplicas ?? 0)
      || status.availableReplicas > (prev.availableReplicas ?? 0) || status.replicas - status.updatedReplicas < (prev.replicas ?? 0) - (prev.updatedReplicas ?? 0);
    const since = prog?.lastUpdateTime ? Date.parse(prog.lastUpdateTime) : now;
    if (progressed || !prog || prog.reason === 'NewReplicaSetAvailable' || (prog.status === 'True' && prog.message !== `ReplicaSet "${rsName}" is progressing.` && prog.reason !== 'NewReplicaSetCreated')) {
      conds = setCondition(conds, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` }, nowS, progressed);
    } else if (deadline !== undefined && prog.reason !== 'ProgressDeadlineExceeded' && since + deadline * 1000 <= now) {
      conds = setCondition(conds, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` }, nowS);
    }
  }
  // A ReplicaSet that cannot create pods (quota, admission) shows through as the Deployment's ReplicaFailure.
  const failure = run.rss.map((rs) => (rs.status?.conditions ?? []).find((c: DeploymentCondition) => c.type === 'ReplicaFailure' && c.status === 'True')).find(Boolean) as DeploymentCondition | undefined;
  if (failure) conds = setCondition(conds, { type: 'ReplicaFailure', status: 'True', reason: failure.reason, message: failure.message }, nowS);
  else conds = conds.filter((c) => c.type !== 'ReplicaFailure');
  const p2 = conds.find((c) => c.type === 'Progressing');
  if (deadline !== undefined && !complete && !dep.spec?.paused && p2?.status === 'True' && p2.lastUpdateTime) {
    d.requeueAfter?.(key, Math.max(1000, Date.parse(p2.lastUpdateTime) + deadline * 1000 - now + 1000));
  }
  if (conds.length) status.conditions = conds;
  for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']) if (!status[k]) delete status[k];
  if (stableStringify(status) === stableStringify(prev)) return;
  try {
    await d.client.update(deploymentsRef, { ...structuredClone(run.dep), status } as KubeObject, 'status');
  } catch (e) {
    ignoreNotFound(e);
  }
}

function ignoreNotFound(e: unknown): void {
  if (!isNotFound(e)) throw e;
}

export function deploymentController(ctx: ControllerContext): Runnable & { controller: Controller; deps: DeploymentDeps } {
  const deployments = ctx.factory.informer(deploymentsRef);
  const replicaSets = ctx.factory.informer(rsRef);
  const deps: DeploymentDeps = { client: ctx.client, clock: ctx.clock, deployments: deployments.lister, replicaSets: replicaSets.lister, recorder: ctx.recorder('deployment-controller') };
  const controller = new Controller({ name: 'deployment', clock: ctx.clock, workers: 2, reconcile: (k) => reconcileDeployment(deps, k) });
  deps.requeueAfter = (k, ms) => controller.enqueueAfter(k, ms);
  controller.watch(deployments);
  controller.watch(replicaSets, (rs) => {
    const ref = rs.metadata.ownerReferences?.find((r) => r.controller);
    if (ref) return ref.kind === 'Deployment' ? `${rs.metadata.namespace}/${ref.name}` : undefined;
    return deployments.lister.list(rs.metadata.namespace).filter((dp) => dp.spec?.selector && !isEmptySelector(dp.spec.selector) && matchesSelector(dp.spec.selector, rs.metadata.labels)).map(keyOf);
  });
  return { controller, deps, run: (signal) => controller.run(signal) };
}
