// CronJob controller: creates Jobs named <cronjob>-<scheduled minutes since epoch> at the schedule's times (in
// spec.timeZone or the schedule's CRON_TZ), honouring concurrencyPolicy, startingDeadlineSeconds, suspend and the
// history limits, and keeps status.active / lastScheduleTime / lastSuccessfulTime.
import { batch, isAlreadyExists, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import { splitKey, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import type { EventRecorder } from '../controller/events.ts';
import type { ControllerContext, Runnable } from './context.ts';
import { logger } from '../log/logger.ts';
import { isOwnedBy, ownerKey, ownerRefFor, stableStringify, requeueDelay } from './controller-revision.ts';
import { isValidTimeZone, nextSchedule, parseSchedule, zoneOffset, type CronSchedule } from './cronjob-schedule.ts';
import { hasCondition, isJobFinished } from './job-pods.ts';

const log = logger('controller/cronjob');
const jobsRef = batch('jobs');
const cronJobsRef = batch('cronjobs');
export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export interface CronJobDeps {
  client: Client;
  clock: Clock;
  cronJobs: Lister;
  jobs: Lister;
  recorder?: EventRecorder;
  requeueAfter?(key: string, ms: number): void;
}

export const jobNameFor = (cronJob: string, scheduled: number): string => `${cronJob}-${Math.floor(scheduled / 60_000)}`;
const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** RFC 3339 with the zone's offset, as Go's time.Format(RFC3339) in that location. */
export function rfc3339In(ms: number, tz: string): string {
  const off = zoneOffset(ms, tz);
  if (off === 0) return iso(ms);
  const wall = new Date(ms + off).toISOString().slice(0, 19);
  const m = Math.abs(off) / 60_000;
  return `${wall}${off < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

export interface MostRecent {
  /** The latest schedule time at or before now that is after the last schedule (or creation), if any. */
  scheduled?: number;
  /** Roughly how many start times were missed (Kubernetes warns above 100). */
  missed: number;
}

/** Kubernetes' mostRecentScheduleTime: earliest = lastScheduleTime ?? creation, moved up by startingDeadlineSeconds. */
export function mostRecentScheduleTime(cj: KubeObject, now: number, sched: CronSchedule, tz?: string): MostRecent {
  let earliest = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '') || now;
  const sds = cj.spec?.startingDeadlineSeconds;
  if (typeof sds === 'number') earliest = Math.max(earliest, now - sds * 1000);
  const t1 = nextSchedule(sched, earliest, tz);
  if (t1 === undefined || now < t1) return { missed: 0 };
  const t2 = nextSchedule(sched, t1, tz);
  if (t2 === undefined || now < t2) return { scheduled: t1, missed: 1 };
  const between = Math.round((t2 - t1) / 1000);
  const missed = Math.floor((now - t1) / 1000 / between) + 1;
  let t = nextSchedule(sched, t1 + (missed - 2) * between * 1000, tz);
  let recent = t1;
  for (let i = 0; t !== undefined && t <= now && i < 1_000_000; i++) {
    recent = t;
    t = nextSchedule(sched, t, tz);
  }
  return { scheduled: recent, missed };
}

export async function reconcileCronJob(deps: CronJobDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const cj = deps.cronJobs.get(name, namespace);
  if (!cj) return;
  const now = deps.clock.now();
  const status = structuredClone(cj.status ?? {}) as Record<string, any>;
  const jobs = deps.jobs.list(namespace).filter((j) => isOwnedBy(j, cj));
  syncActive(deps, cj, jobs, status);
  try {
    if (!cj.metadata.deletionTimestamp) await schedule(deps, key, cj, jobs, status, now);
  } finally {
    if (stableStringify(status) !== stableStringify(cj.status ?? {})) {
      await deps.client.update(cronJobsRef, { ...structuredClone(cj), status } as KubeObject, 'status');
    }
  }
  if (!cj.metadata.deletionTimestamp) await cleanupHistory(deps, cj, jobs);
}

function syncActive(deps: CronJobDeps, cj: KubeObject, jobs: KubeObject[], status: Record<string, any>): void {
  let active = [...((status.active ?? []) as { uid?: string; name: string }[])];
  for (const j of jobs) {
    if (!isJobFinished(j)) continue;
    if (active.some((a) => a.uid === j.metadata.uid)) {
      active = active.filter((a) => a.uid !== j.metadata.uid);
      deps.recorder?.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${hasCondition(j, 'Complete') ? 'Complete' : 'Failed'}`);
    }
    if (hasCondition(j, 'Complete') && j.status?.completionTime) {
      const t = Date.parse(j.status.completionTime);
      if (!status.lastSuccessfulTime || t > Date.parse(status.lastSuccessfulTime)) status.lastSuccessfulTime = j.status.completionTime;
    }
  }
  // Forget active entries whose job is gone.
  active = active.filter((a) => jobs.some((j) => j.metadata.uid === a.uid) || !!deps.jobs.get(a.name, cj.metadata.namespace));
  if (active.length) status.active = active; else delete status.active;
}

async function schedule(deps: CronJobDeps, key: string, cj: KubeObject, jobs: KubeObject[], status: Record<string, any>, now: number): Promise<void> {
  const tz: string | undefined = cj.spec?.timeZone ?? undefined;
  if (tz && !isValidTimeZone(tz)) {
    deps.recorder?.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${tz}"`);
    return;
  }
  if (cj.spec?.suspend) return;
  let sched: CronSchedule;
  try {
    sched = parseSchedule(cj.spec?.schedule ?? '');
  } catch (e) {
    deps.recorder?.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${cj.spec?.schedule}" : ${(e as Error).message}`);
    return;
  }
  const requeueNext = () => {
    const next = nextSchedule(sched, now, tz);
    if (next !== undefined) deps.requeueAfter?.(key, next - now + 100);
  };
  const { scheduled, missed } = mostRecentScheduleTime({ ...cj, status }, now, sched, tz);
  if (missed > 100) deps.recorder?.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
  if (scheduled === undefined) return requeueNext();
  const sds = cj.spec?.startingDeadlineSeconds;
  if (typeof sds === 'number' && scheduled + sds * 1000 < now) {
    deps.recorder?.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${iso(scheduled)}`);
    return requeueNext();
  }
  const jobName = jobNameFor(cj.metadata.name!, scheduled);
  const active = (status.active ?? []) as { name: string; uid?: string }[];
  if (active.some((a) => a.name === jobName) || status.lastScheduleTime === iso(scheduled)) return requeueNext();
  const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
  if (policy === 'Forbid' && active.length) {
    deps.recorder?.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
    return requeueNext();
  }
  if (policy === 'Replace') {
    for (const a of active) {
      try {
        await deps.client.delete(jobsRef, a.name, cj.metadata.namespace, { propagationPolicy: 'Background' });
        deps.recorder?.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${a.name}`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    delete status.active;
  }
  let created: KubeObject;
  try {
    created = await deps.client.create(jobsRef, jobFromTemplate(cj, scheduled, tz), cj.metadata.namespace);
  } catch (e) {
    if (isAlreadyExists(e)) return requeueNext();
    throw e;
  }
  void jobs;
  deps.recorder?.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
  log.debug('created job', { cronjob: key, job: created.metadata.name });
  status.active = [...((status.active ?? []) as unknown[]), {
    kind: 'Job', namespace: created.metadata.namespace, name: created.metadata.name, uid: created.metadata.uid,
    apiVersion: 'batch/v1', resourceVersion: created.metadata.resourceVersion,
  }];
  status.lastScheduleTime = iso(scheduled);
  requeueNext();
}

export function jobFromTemplate(cj: KubeObject, scheduled: number, tz?: string): KubeObject {
  const tmpl = structuredClone(cj.spec?.jobTemplate ?? {}) as KubeObject;
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name: jobNameFor(cj.metadata.name!, scheduled), namespace: cj.metadata.namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}) },
      annotations: { ...(tmpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP]: rfc3339In(scheduled, tz ?? 'UTC') },
      ownerReferences: [ownerRefFor(cj, 'CronJob', 'batch/v1')],
    },
    spec: tmpl.spec ?? {},
  };
}

async function cleanupHistory(deps: CronJobDeps, cj: KubeObject, jobs: KubeObject[]): Promise<void> {
  const startOf = (j: KubeObject) => Date.parse(j.status?.startTime ?? j.metadata.creationTimestamp ?? '') || 0;
  const limits: [string, number][] = [['Complete', cj.spec?.successfulJobsHistoryLimit ?? 3], ['Failed', cj.spec?.failedJobsHistoryLimit ?? 1]];
  for (const [cond, limit] of limits) {
    const done = jobs.filter((j) => hasCondition(j, cond) && !j.metadata.deletionTimestamp).sort((a, b) => startOf(a) - startOf(b));
    for (const j of done.slice(0, Math.max(0, done.length - limit))) {
      try {
        await deps.client.delete(jobsRef, j.metadata.name!, j.metadata.namespace, { propagationPolicy: 'Background' });
        deps.recorder?.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }
}

/** The CronJob controller on the manager's shared informers. */
export function initCronJobController(ctx: ControllerContext): Runnable {
  const cronJobs = ctx.factory.informer(cronJobsRef);
  const jobs = ctx.factory.informer(jobsRef);
  const deps: CronJobDeps = { client: ctx.client, clock: ctx.clock, cronJobs: cronJobs.lister, jobs: jobs.lister, recorder: ctx.recorder('cronjob-controller') };
  const c = new Controller({ name: 'cronjob', clock: ctx.clock, reconcile: (key) => reconcileCronJob(deps, key) });
  deps.requeueAfter = (key, ms) => c.enqueueAfter(key, requeueDelay(ms));
  c.watch(cronJobs);
  c.watch(jobs, (j) => ownerKey(j, 'CronJob'));
  return c;
}
