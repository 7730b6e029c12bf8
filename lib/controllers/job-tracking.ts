// The Job controller's bookkeeping of finished pods (tracking finalizer + status.uncountedTerminatedPods, so each
// pod counts exactly once) and the TTL after a job finished.
import { batch, core, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import { logger } from '../log/logger.ts';
import type { JobDeps } from './job.ts';
import {
  formatIndexes, hasCondition, isIndexed, isPodFailed, matchPodFailurePolicy, parseIndexes, perIndexLimit, podFinishTime, podIndex,
  podIndexFailures, setCondition, TRACKING_FINALIZER, type JobCondition,
} from './job-pods.ts';

const log = logger('controller/job');
const jobsRef = batch('jobs');
const podsRef = core('pods');
const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** Records newly finished pods in uncountedTerminatedPods, removes their finalizers, then moves them to the counts. */
export async function trackFinishedPods(deps: JobDeps, key: string, job: KubeObject, pods: KubeObject[], status: Record<string, any>): Promise<void> {
  const uncounted = { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])] as string[], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] as string[] };
  const known = new Set([...uncounted.succeeded, ...uncounted.failed]);
  const release: KubeObject[] = [];
  const completed = parseIndexes(status.completedIndexes);
  const succeededIdx: number[] = [], failedIdx: number[] = [];
  let newFailures = 0, lastFailure = 0;
  for (const p of pods) {
    if (!p.metadata.finalizers?.includes(TRACKING_FINALIZER)) continue;
    const uid = p.metadata.uid!;
    const succeeded = p.status?.phase === 'Succeeded';
    const failed = !succeeded && (job.spec?.podReplacementPolicy === 'Failed' ? p.status?.phase === 'Failed' : isPodFailed(p));
    if (!succeeded && !failed) continue;
    release.push(p);
    if (known.has(uid)) continue;
    if (failed && job.spec?.suspend && p.status?.phase !== 'Failed') continue; // stopped by suspension: not a failure
    if (failed && p.status?.phase === 'Failed') {
      const rule = matchPodFailurePolicy(job, p);
      if (rule?.action === 'Ignore') continue; // released without counting towards backoffLimit
      if (rule?.action === 'FailJob' && !hasCondition({ metadata: {}, status }, 'FailureTarget')) {
        status.conditions = setCondition(status.conditions ?? [], { type: 'FailureTarget', status: 'True', reason: 'PodFailurePolicy', message: rule.message }, iso(deps.clock.now()));
      }
    }
    if (succeeded) {
      const i = podIndex(p);
      if (isIndexed(job) && (i === undefined || i >= (job.spec?.completions ?? 0) || completed.has(i))) continue;
      uncounted.succeeded.push(uid);
      if (i !== undefined) succeededIdx.push(i);
    } else {
      uncounted.failed.push(uid);
      newFailures++;
      const i = podIndex(p);
      if (perIndexLimit(job) !== undefined && i !== undefined && podIndexFailures(p) + 1 > perIndexLimit(job)!) failedIdx.push(i);
      lastFailure = Math.max(lastFailure, podFinishTime(p) ?? deps.clock.now());
    }
  }
  if (uncounted.succeeded.length + uncounted.failed.length > known.size) {
    status.uncountedTerminatedPods = uncounted;
    const written = await deps.client.update(jobsRef, { ...structuredClone(job), status } as KubeObject, 'status');
    job.metadata = written.metadata;
  }
  await removeFinalizers(deps.client, release);
  if (isIndexed(job)) {
    for (const i of succeededIdx) completed.add(i);
    status.completedIndexes = formatIndexes(completed);
    if (perIndexLimit(job) !== undefined) status.failedIndexes = formatIndexes(new Set([...parseIndexes(status.failedIndexes), ...failedIdx]));
    status.succeeded = completed.size;
  } else {
    status.succeeded = (status.succeeded ?? 0) + uncounted.succeeded.length;
  }
  status.failed = (status.failed ?? 0) + uncounted.failed.length;
  status.uncountedTerminatedPods = {};
  if (!status.succeeded) delete status.succeeded;
  if (!status.failed) delete status.failed;
  const rec = deps.backoff?.get(key) ?? { failures: 0, last: 0 };
  if (uncounted.succeeded.length) rec.failures = 0;
  if (newFailures) { rec.failures += newFailures; rec.last = Math.max(rec.last, lastFailure); }
  deps.backoff?.set(key, rec);
}

export async function removeFinalizers(client: Client, pods: KubeObject[]): Promise<void> {
  for (const p of pods) {
    const rest = (p.metadata.finalizers ?? []).filter((f) => f !== TRACKING_FINALIZER);
    try {
      await client.patch(podsRef, p.metadata.name!, 'merge', { metadata: { finalizers: rest.length ? rest : null } }, { namespace: p.metadata.namespace });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** ttlSecondsAfterFinished: deletes the finished job (background propagation) once its time is up. */
export async function handleTtl(deps: JobDeps, key: string, job: KubeObject): Promise<void> {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null) return;
  const cond = ((job.status?.conditions ?? []) as JobCondition[]).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const finished = Date.parse(job.status?.completionTime ?? cond?.lastTransitionTime ?? '') || deps.clock.now();
  const wait = finished + ttl * 1000 - deps.clock.now();
  if (wait > 0) { deps.requeueAfter?.(key, wait); return; }
  try {
    await deps.client.delete(jobsRef, job.metadata.name!, job.metadata.namespace, { propagationPolicy: 'Background', preconditions: { uid: job.metadata.uid } });
    log.info('deleted finished job after its TTL', { job: key });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}
