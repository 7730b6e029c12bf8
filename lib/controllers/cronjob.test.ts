import t from 'tap';
import { batch, type KubeObject } from '../client/types.ts';
import { FakeClock } from '../clock.ts';
import { jobNameFor, reconcileCronJob, rfc3339In, SCHEDULED_TIMESTAMP, type CronJobDeps } from './cronjob.ts';
import { seeded, verbs } from './controller-revision-fixtures.ts';
import { nextSchedule, parseSchedule } from './cronjob-schedule.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const MIN = 60_000;

function cronJob(spec: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob',
    metadata: { name: 'hello', namespace: 'default', uid: 'cj-uid', creationTimestamp: iso(T0) },
    spec: { schedule: '*/5 * * * *', jobTemplate: { metadata: { labels: { app: 'hello' } }, spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } }, ...spec },
    ...(status ? { status } : {}),
  };
}

function childJob(name: string, uid: string, status: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name, namespace: 'default', uid, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: 'cj-uid', controller: true }] },
    spec: {}, status,
  };
}
const complete = (at: number) => ({ startTime: iso(at - MIN), completionTime: iso(at), conditions: [{ type: 'Complete', status: 'True' }] });

function setup(cj: KubeObject, jobs: KubeObject[] = [], now = T0) {
  const { client, listers } = seeded([[batch('cronjobs'), [cj]], [batch('jobs'), jobs]]);
  const requeues: number[] = [];
  const deps: CronJobDeps = { client, clock: new FakeClock(now), cronJobs: listers[0]!, jobs: listers[1]!, requeueAfter: (_k, ms) => requeues.push(ms) };
  return { client, deps, requeues };
}
const statusOf = (c: ReturnType<typeof setup>['client']) => c.actions.find((a) => a.subresource === 'status')?.object?.status;

t.test('creates the job for the most recent schedule time and records it', async (t) => {
  const { client, deps, requeues } = setup(cronJob(), [], T0 + 5 * MIN + 10_000);
  await reconcileCronJob(deps, 'default/hello');
  const name = jobNameFor('hello', T0 + 5 * MIN);
  t.equal(name, `hello-${(T0 + 5 * MIN) / MIN}`);
  t.same(verbs(client), [`create jobs ${name}`, 'update cronjobs/status hello']);
  const job = client.actions[0]!.object!;
  t.equal(job.metadata.annotations![SCHEDULED_TIMESTAMP], '2026-01-01T00:05:00Z');
  t.equal(job.metadata.labels!.app, 'hello');
  t.equal(job.metadata.ownerReferences![0]!.kind, 'CronJob');
  const st = statusOf(client)!;
  t.equal(st.lastScheduleTime, '2026-01-01T00:05:00Z');
  t.same(st.active.map((a: { name: string }) => a.name), [name]);
  t.same(requeues, [4 * MIN + 50_000 + 100]);
});

t.test('nothing before the first schedule time', async (t) => {
  const { client, requeues, deps } = setup(cronJob(), [], T0 + MIN);
  await reconcileCronJob(deps, 'default/hello');
  t.same(verbs(client), []);
  t.same(requeues, [4 * MIN + 100]);
});

t.test('Forbid skips while a job is active; Replace deletes it first', async (t) => {
  const running = childJob('hello-1', 'j1');
  const status = { active: [{ kind: 'Job', name: 'hello-1', namespace: 'default', uid: 'j1' }], lastScheduleTime: iso(T0) };
  const f = setup(cronJob({ concurrencyPolicy: 'Forbid' }, status), [running], T0 + 5 * MIN);
  await reconcileCronJob(f.deps, 'default/hello');
  t.same(verbs(f.client), []);
  const r = setup(cronJob({ concurrencyPolicy: 'Replace' }, status), [running], T0 + 5 * MIN);
  await reconcileCronJob(r.deps, 'default/hello');
  t.same(verbs(r.client), ['delete jobs hello-1', `create jobs ${jobNameFor('hello', T0 + 5 * MIN)}`, 'update cronjobs/status hello']);
  t.equal(statusOf(r.client)!.active.length, 1);
});

t.test('startingDeadlineSeconds skips a start that is too late', async (t) => {
  const { client, deps } = setup(cronJob({ startingDeadlineSeconds: 10 }), [], T0 + 5 * MIN + 30_000);
  await reconcileCronJob(deps, 'default/hello');
  t.same(verbs(client), []);
});

t.test('after many missed start times only the most recent one runs', async (t) => {
  const { client, deps } = setup(cronJob({ schedule: '* * * * *' }), [], T0 + 500 * MIN + 5_000);
  await reconcileCronJob(deps, 'default/hello');
  t.same(verbs(client), [`create jobs ${jobNameFor('hello', T0 + 500 * MIN)}`, 'update cronjobs/status hello']);
});

t.test('finished jobs leave the active list and set lastSuccessfulTime', async (t) => {
  const status = { active: [{ kind: 'Job', name: 'hello-1', namespace: 'default', uid: 'j1' }], lastScheduleTime: iso(T0 + 5 * MIN) };
  const { client, deps } = setup(cronJob({}, status), [childJob('hello-1', 'j1', complete(T0 + 6 * MIN))], T0 + 7 * MIN);
  await reconcileCronJob(deps, 'default/hello');
  t.same(verbs(client), ['update cronjobs/status hello']);
  const st = statusOf(client)!;
  t.notOk(st.active);
  t.equal(st.lastSuccessfulTime, iso(T0 + 6 * MIN));
});

t.test('history limits delete the oldest finished jobs', async (t) => {
  const jobs = [1, 2, 3, 4, 5].map((i) => childJob(`hello-${i}`, `j${i}`, complete(T0 + i * MIN)));
  jobs.push(childJob('hello-f1', 'f1', { startTime: iso(T0), conditions: [{ type: 'Failed', status: 'True' }] }));
  jobs.push(childJob('hello-f2', 'f2', { startTime: iso(T0 + MIN), conditions: [{ type: 'Failed', status: 'True' }] }));
  const { client, deps } = setup(cronJob({ suspend: true }, { lastSuccessfulTime: iso(T0 + 5 * MIN) }), jobs, T0 + 7 * MIN);
  await reconcileCronJob(deps, 'default/hello');
  t.same(verbs(client), ['delete jobs hello-1', 'delete jobs hello-2', 'delete jobs hello-f1']);
});

t.test('suspend creates nothing', async (t) => {
  const { client, deps } = setup(cronJob({ suspend: true }), [], T0 + 5 * MIN);
  await reconcileCronJob(deps, 'default/hello');
  t.same(verbs(client), []);
});

t.test('spec.timeZone picks the wall clock; the annotation carries the offset', async (t) => {
  const { client, deps } = setup(cronJob({ schedule: '0 9 * * *', timeZone: 'America/New_York' }), [], Date.parse('2026-01-01T14:00:30Z'));
  await reconcileCronJob(deps, 'default/hello');
  const job = client.actions[0]!.object!;
  t.equal(job.metadata.name, jobNameFor('hello', Date.parse('2026-01-01T14:00:00Z')));
  t.equal(job.metadata.annotations![SCHEDULED_TIMESTAMP], '2026-01-01T09:00:00-05:00');
  t.equal(rfc3339In(Date.parse('2026-07-01T00:00:00Z'), 'Asia/Kolkata'), '2026-07-01T05:30:00+05:30');
});

// ---- schedule parsing and next times ----
const isoOf = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString().replace('.000Z', 'Z'));
const at = (s: string) => Date.parse(s);

t.test('nextSchedule table', async (t) => {
  const cases: [string, string, string | undefined, string | undefined][] = [
    ['*/15 * * * *', '2026-01-01T00:07:00Z', undefined, '2026-01-01T00:15:00Z'],
    ['* * * * *', '2026-01-01T00:07:30Z', undefined, '2026-01-01T00:08:00Z'],
    ['0 0 * * *', '2026-01-01T00:00:00Z', undefined, '2026-01-02T00:00:00Z'],
    ['@hourly', '2026-01-01T10:30:00Z', undefined, '2026-01-01T11:00:00Z'],
    ['@daily', '2026-01-01T10:30:00Z', undefined, '2026-01-02T00:00:00Z'],
    ['@midnight', '2026-01-01T10:30:00Z', undefined, '2026-01-02T00:00:00Z'],
    ['@weekly', '2026-01-01T10:30:00Z', undefined, '2026-01-04T00:00:00Z'],
    ['@monthly', '2026-01-01T10:30:00Z', undefined, '2026-02-01T00:00:00Z'],
    ['@yearly', '2026-01-01T10:30:00Z', undefined, '2027-01-01T00:00:00Z'],
    ['@annually', '2026-01-01T10:30:00Z', undefined, '2027-01-01T00:00:00Z'],
    ['0 9 * * mon-fri', '2026-01-03T00:00:00Z', undefined, '2026-01-05T09:00:00Z'],
    ['0 9 * * MON,wed', '2026-01-05T09:00:00Z', undefined, '2026-01-07T09:00:00Z'],
    ['0 0 1,15 * 1', '2026-01-01T00:00:00Z', undefined, '2026-01-05T00:00:00Z'],
    ['0 0 */10 * *', '2026-01-01T00:00:00Z', undefined, '2026-01-11T00:00:00Z'],
    ['5-10/5 3 * jan-mar *', '2026-04-01T00:00:00Z', undefined, '2027-01-01T03:05:00Z'],
    ['0 0 29 feb *', '2026-01-01T00:00:00Z', undefined, '2028-02-29T00:00:00Z'],
    ['0 0 31 2 *', '2026-01-01T00:00:00Z', undefined, undefined],
    ['CRON_TZ=America/New_York 0 9 * * *', '2026-01-01T00:00:00Z', undefined, '2026-01-01T14:00:00Z'],
    ['TZ=Asia/Tokyo 0 9 * * *', '2026-01-01T00:00:00Z', undefined, '2026-01-02T00:00:00Z'],
    ['0 9 * * *', '2026-01-01T00:00:00Z', 'Asia/Kolkata', '2026-01-01T03:30:00Z'],
    // spring forward in New York (2026-03-08 02:00 EST -> 03:00 EDT): 02:30 does not exist that day
    ['30 2 * * *', '2026-03-07T08:00:00Z', 'America/New_York', '2026-03-09T06:30:00Z'],
    ['0 * * * *', '2026-03-08T06:30:00Z', 'America/New_York', '2026-03-08T07:00:00Z'],
    // fall back (2026-11-01 02:00 EDT -> 01:00 EST): 01:30 happens twice
    ['30 1 * * *', '2026-11-01T04:00:00Z', 'America/New_York', '2026-11-01T05:30:00Z'],
    ['30 1 * * *', '2026-11-01T05:30:00Z', 'America/New_York', '2026-11-01T06:30:00Z'],
    ['30 1 * * *', '2026-11-01T06:30:00Z', 'America/New_York', '2026-11-02T06:30:00Z'],
    ['0 3 * * *', '2026-11-01T04:00:00Z', 'America/New_York', '2026-11-01T08:00:00Z'],
    ['@every 1h30m', '2026-01-01T00:07:30.250Z', undefined, '2026-01-01T01:37:30Z'],
    ['@every 90s', '2026-01-01T00:00:00Z', undefined, '2026-01-01T00:01:30Z'],
  ];
  for (const [spec, after, tz, want] of cases) t.equal(isoOf(nextSchedule(spec, at(after), tz)), want, `${spec} after ${after} in ${tz ?? 'UTC'}`);
});

t.test('parseSchedule rejects bad schedules', async (t) => {
  for (const bad of ['60 * * * *', '* * * *', '* * * * * *', '@every 5x', '@every', 'TZ=Bad/Zone * * * * *', '5-1 * * * *', '*/0 * * * *', '* * * * 7', 'x * * * *']) {
    t.throws(() => parseSchedule(bad), bad);
  }
  const s = parseSchedule('*/2 * * * *');
  t.equal(s.minute.size, 30);
  t.equal(parseSchedule('0 0 * * *').domStar, true);
});
