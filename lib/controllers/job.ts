// Job controller: runs pods to completion. Counts finished pods exactly once through the tracking finalizer and
// status.uncountedTerminatedPods (job-tracking.ts), enforces backoffLimit (with 10 s..6 min pod re-creation
// backoff), activeDeadlineSeconds, suspend, podFailurePolicy, podReplacementPolicy, Indexed completion mode with
// successPolicy and backoffLimitPerIndex, and ttlSecondsAfterFinished. Conditions as in 1.32: SuccessCriteriaMet or
// FailureTarget, then Complete or Failed (here in the same sync, after deleting the remaining pods).
import { batch, core, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import type { Lister } from '../controller/cache.ts';
import { splitKey } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import type { EventRecorder } from '../controller/events.ts';
import { Expectations } from '../controller/expectations.ts';
import type { ControllerContext, Runnable } from './context.ts';
import { logger } from '../log/logger.ts';
import { controllerOf, isOwnedBy, isPodActive, isPodReady, stableStringify, watchChildren, requeueDelay } from './controller-revision.ts';
import {
  backoffDelay, hasCondition, isIndexed, isJobFinished, isPodFailed, matchSuccessPolicy, newJobPod, parseIndexes, perIndexLimit, podIndex,
  podIndexFailures, setCondition, TRACKING_FINALIZER, type JobCondition,
} from './job-pods.ts';
import { handleTtl, removeFinalizers, trackFinishedPods } from './job-tracking.ts';

const log = logger('controller/job');
const jobsRef = batch('jobs');
const podsRef = core('pods');

export interface JobDeps {
  client: Client;
  clock: Clock;
  jobs: Lister;
  pods: Lister;
  /** Asks for another reconcile of key after ms (the Controller's enqueueAfter). */
  requeueAfter?(key: string, ms: number): void;
  /** Consecutive failures and the last failure time per job key (pod re-creation backoff). */
  backoff?: Map<string, { failures: number; last: number }>;
  recorder?: EventRecorder;
  expectations?: Expectations;
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export async function reconcileJob(deps: JobDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const job = deps.jobs.get(name, namespace);
  // Pods of a job that is gone (or replaced) must not keep the tracking finalizer.
  const orphans = deps.pods.list(namespace).filter((p) => {
    const ref = controllerOf(p);
    return ref?.kind === 'Job' && ref.name === name && ref.uid !== job?.metadata.uid && p.metadata.finalizers?.includes(TRACKING_FINALIZER);
  });
  await removeFinalizers(deps.client, orphans);
  if (!job) { deps.backoff?.delete(key); deps.expectations?.delete(key); return; }
  if (job.metadata.deletionTimestamp) {
    await removeFinalizers(deps.client, deps.pods.list(namespace).filter((p) => isOwnedBy(p, job) && !isPodActive(p) && p.metadata.finalizers?.includes(TRACKING_FINALIZER)));
    return;
  }
  const pods = deps.pods.list(namespace).filter((p) => isOwnedBy(p, job));
  if (isJobFinished(job)) {
    await removeFinalizers(deps.client, pods.filter((p) => p.metadata.finalizers?.includes(TRACKING_FINALIZER)));
    await handleTtl(deps, key, job);
    return;
  }
  const now = deps.clock.now();
  const work = structuredClone(job) as KubeObject;
  const status = structuredClone(job.status ?? {}) as Record<string, any>;
  await trackFinishedPods(deps, key, work, pods, status);
  await manage(deps, key, work, pods, status, now);
  if (!status.active) delete status.active;
  if (stableStringify(status) !== stableStringify(job.status ?? {})) {
    await deps.client.update(jobsRef, { ...work, status } as KubeObject, 'status');
  }
}

async function deletePods(deps: JobDeps, job: KubeObject, pods: KubeObject[]): Promise<void> {
  for (const p of pods) {
    try {
      await deps.client.delete(podsRef, p.metadata.name!, p.metadata.namespace);
      deps.recorder?.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

const childKey = (p: KubeObject) => `${p.metadata.namespace}/${p.metadata.name}`;

/** Creates one pod per entry (a completion index, or undefined for NonIndexed), expecting to observe each. */
async function createPods(deps: JobDeps, key: string, job: KubeObject, indexes: (number | undefined)[], failures?: Map<number, number>): Promise<void> {
  if (!indexes.length) return;
  deps.expectations?.expect(key, indexes.length);
  for (const [n, index] of indexes.entries()) {
    try {
      const p = await deps.client.create(podsRef, newJobPod(job, index, index === undefined ? undefined : failures?.get(index)), job.metadata.namespace);
      deps.recorder?.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}`);
    } catch (e) {
      deps.expectations?.lowerAdds(key, indexes.length - n);
      deps.recorder?.event(job, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
      throw e;
    }
  }
}

function finish(deps: JobDeps, job: KubeObject, status: Record<string, any>, type: 'Complete' | 'Failed', reason: string, message: string, now: number): void {
  if (type === 'Complete') deps.recorder?.event(job, 'Normal', 'Completed', 'Job completed');
  else deps.recorder?.event(job, 'Warning', reason, message);
  const n = iso(now);
  let conds = (status.conditions ?? []) as JobCondition[];
  conds = setCondition(conds, { type: type === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget', status: 'True', reason, message }, n);
  conds = setCondition(conds, { type, status: 'True', reason, message }, n);
  status.conditions = conds;
  if (type === 'Complete') status.completionTime = n;
  status.active = 0;
  status.ready = 0;
}

async function manage(deps: JobDeps, key: string, job: KubeObject, pods: KubeObject[], status: Record<string, any>, now: number): Promise<void> {
  const spec = job.spec ?? {};
  const active = pods.filter(isPodActive);
  const succeeded = status.succeeded ?? 0;
  const failed = status.failed ?? 0;
  status.terminating = pods.filter((p) => p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;

  if (spec.suspend) {
    await deletePods(deps, job, active);
    status.conditions = setCondition(status.conditions ?? [], { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, iso(now));
    status.active = 0;
    status.ready = 0;
    return;
  }
  if (hasCondition(job, 'Suspended')) {
    status.conditions = setCondition(status.conditions ?? [], { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, iso(now));
    status.startTime = iso(now);
  }
  status.startTime ??= iso(now);
  const started = Date.parse(status.startTime);

  const backoffLimit = spec.backoffLimit ?? 6;
  const deadline = spec.activeDeadlineSeconds;
  let failure: [string, string] | undefined;
  const target = ((status.conditions ?? []) as JobCondition[]).find((c) => c.type === 'FailureTarget' && c.status === 'True');
  const failedIndexes = parseIndexes(status.failedIndexes);
  const maxFailedIndexes: number | undefined = spec.maxFailedIndexes ?? undefined;
  if (target) failure = [target.reason ?? 'PodFailurePolicy', target.message ?? ''];
  else if (perIndexLimit(job) !== undefined && maxFailedIndexes !== undefined && failedIndexes.size > maxFailedIndexes) {
    failure = ['MaxFailedIndexesExceeded', 'Job has exceeded the specified maximal number of failed indexes'];
  } else if (perIndexLimit(job) !== undefined && failedIndexes.size && failedIndexes.size + parseIndexes(status.completedIndexes).size >= (spec.completions ?? 1)) {
    failure = ['FailedIndexes', 'Job has failed indexes'];
  } else if (perIndexLimit(job) === undefined && failed > backoffLimit) failure = ['BackoffLimitExceeded', 'Job has reached the specified backoff limit'];
  else if (deadline !== undefined && now - started >= deadline * 1000) failure = ['DeadlineExceeded', 'Job was active longer than specified deadline'];
  if (failure) {
    await deletePods(deps, job, active);
    finish(deps, job, status, 'Failed', failure[0], failure[1], now);
    return;
  }
  if (deadline !== undefined) deps.requeueAfter?.(key, started + deadline * 1000 - now);

  const completions: number | undefined = spec.completions ?? undefined;
  const parallelism: number = spec.parallelism ?? 1;
  const done = completions === undefined ? succeeded > 0 && active.length === 0 : succeeded >= completions;
  const policyRule = isIndexed(job) ? matchSuccessPolicy(job, parseIndexes(status.completedIndexes)) : undefined;
  if (done || policyRule !== undefined) {
    await deletePods(deps, job, active);
    if (policyRule !== undefined && !done) finish(deps, job, status, 'Complete', 'SuccessPolicy', `Matched rules at index ${policyRule}`, now);
    else finish(deps, job, status, 'Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
    return;
  }

  // Until our informer has seen the pods we created or deleted, a second decision would double them.
  if (deps.expectations && !deps.expectations.satisfied(key)) {
    status.active = active.length;
    status.ready = active.filter(isPodReady).length;
    return;
  }
  let keep = active;
  if (isIndexed(job)) keep = await manageIndexed(deps, key, job, pods, status, now);
  else {
    let want = completions === undefined ? (succeeded > 0 ? active.length : parallelism) : Math.max(0, Math.min(parallelism, completions - succeeded));
    if (active.length > want) {
      const excess = [...active].sort(deletionOrder).slice(0, active.length - want);
      deps.expectations?.expect(key, 0, excess.map(childKey));
      await deletePods(deps, job, excess);
      keep = active.filter((p) => !excess.includes(p));
      want = keep.length;
    }
    const diff = want - keep.length - (spec.podReplacementPolicy === 'Failed' ? status.terminating : 0);
    if (diff > 0 && backoffOk(deps, key, now)) {
      await createPods(deps, key, job, Array.from({ length: diff }, () => undefined));
      status.active = keep.length + diff;
      status.ready = keep.filter(isPodReady).length;
      return;
    }
  }
  status.active = keep.length;
  status.ready = keep.filter(isPodReady).length;
}

/** Unready before ready, newest before oldest (deleted first). */
function deletionOrder(a: KubeObject, b: KubeObject): number {
  const ra = isPodReady(a) ? 1 : 0, rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  return (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '');
}

function backoffOk(deps: JobDeps, key: string, now: number): boolean {
  const rec = deps.backoff?.get(key);
  if (!rec || rec.failures === 0) return true;
  const wait = rec.last + backoffDelay(rec.failures) - now;
  if (wait <= 0) return true;
  deps.requeueAfter?.(key, wait);
  log.debug('pod creation backing off', { job: key, failures: rec.failures, waitMs: wait });
  return false;
}

async function manageIndexed(deps: JobDeps, key: string, job: KubeObject, pods: KubeObject[], status: Record<string, any>, now: number): Promise<KubeObject[]> {
  const active = pods.filter(isPodActive);
  const completions: number = job.spec?.completions ?? 1;
  const parallelism: number = job.spec?.parallelism ?? 1;
  const completed = parseIndexes(status.completedIndexes);
  for (const i of parseIndexes(status.failedIndexes)) completed.add(i); // failed for good: neither kept nor recreated
  const byIndex = new Map<number, KubeObject>();
  const excess: KubeObject[] = [];
  for (const p of [...active].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''))) {
    const i = podIndex(p);
    if (i === undefined || i >= completions || completed.has(i) || byIndex.has(i)) excess.push(p);
    else byIndex.set(i, p);
  }
  let keep = [...byIndex.values()];
  if (keep.length > parallelism) {
    const extra = [...keep].sort((a, b) => podIndex(b)! - podIndex(a)!).slice(0, keep.length - parallelism);
    excess.push(...extra);
    keep = keep.filter((p) => !extra.includes(p));
  }
  const room = parallelism - keep.length;
  const indexes: number[] = [];
  if (room > 0 && backoffOk(deps, key, now)) {
    const taken = new Set(keep.map((p) => podIndex(p)!));
    for (let i = 0; i < completions && indexes.length < room; i++) if (!completed.has(i) && !taken.has(i)) indexes.push(i);
  }
  if (excess.length) deps.expectations?.expect(key, 0, excess.map(childKey));
  await deletePods(deps, job, excess);
  // backoffLimitPerIndex: each new pod carries how often its index already failed.
  const failures = new Map<number, number>();
  for (const p of pods) {
    const i = podIndex(p);
    if (i !== undefined && isPodFailed(p)) failures.set(i, Math.max(failures.get(i) ?? 0, podIndexFailures(p) + 1));
  }
  await createPods(deps, key, job, indexes, failures);
  return keep.concat(indexes.map(() => ({ metadata: {} })));
}

/** The Job controller on the manager's shared informers. */
export function initJobController(ctx: ControllerContext): Runnable {
  const jobs = ctx.factory.informer(jobsRef);
  const pods = ctx.factory.informer(podsRef);
  const deps: JobDeps = {
    client: ctx.client, clock: ctx.clock, jobs: jobs.lister, pods: pods.lister, backoff: new Map(), recorder: ctx.recorder('job-controller'),
    expectations: new Expectations(ctx.clock),
  };
  const c = new Controller({ name: 'job', clock: ctx.clock, workers: 2, reconcile: (key) => reconcileJob(deps, key) });
  deps.requeueAfter = (key, ms) => c.enqueueAfter(key, requeueDelay(ms));
  c.watch(jobs);
  watchChildren(c, pods, 'Job', deps.expectations);
  return c;
}
