import t from 'tap';
import { apps, batch, core, type KubeObject } from '../client/types.ts';
import { FakeClock, realClock } from '../clock.ts';
import { initJobController, reconcileJob, type JobDeps } from './job.ts';
import { listerOf, seeded, verbs, readyCondition } from './controller-revision-fixtures.ts';
import { Expectations } from '../controller/expectations.ts';
import { TRACKING_FINALIZER, backoffDelay, formatIndexes, parseIndexes } from './job-pods.ts';
import { FakeClient } from '../client/fake.ts';
import { nullRecorder } from '../controller/events.ts';
import { SharedInformerFactory } from '../controller/factory.ts';
import type { ControllerContext } from './context.ts';
import { initCronJobController } from './cronjob.ts';
import { initDaemonSetController } from './daemonset.ts';
import { initDisruptionController } from './disruption.ts';
import { initHpaController } from './hpa.ts';
import { initStatefulSetController } from './statefulset.ts';
import { until } from './registry-fixture.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function job(spec: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: 'job-uid' },
    spec: { template: { metadata: { labels: { app: 'pi' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
    ...(status ? { status } : {}),
  };
}

function pod(name: string, phase: string, extra: Partial<KubeObject['metadata']> = {}, status: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: iso(T0), finalizers: [TRACKING_FINALIZER],
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'job-uid', controller: true }], ...extra,
    },
    spec: {},
    status: { phase, ...status },
  };
}

function setup(j: KubeObject, pods: KubeObject[] = [], clock = new FakeClock(T0)) {
  const { client, listers } = seeded([[batch('jobs'), [j]], [core('pods'), pods]]);
  const requeues: number[] = [];
  const deps: JobDeps = { client, clock, jobs: listers[0]!, pods: listers[1]!, requeueAfter: (_k, ms) => requeues.push(ms), backoff: new Map() };
  return { client, deps, requeues, clock };
}

const lastStatus = (c: ReturnType<typeof setup>['client']) => c.actions.filter((a) => a.resource === 'jobs' && a.subresource === 'status').at(-1)?.object?.status;

t.test('new job creates parallelism pods with labels, owner and tracking finalizer', async (t) => {
  const { client, deps } = setup(job({ completions: 3, parallelism: 2 }));
  await reconcileJob(deps, 'default/pi');
  t.same(verbs(client), ['create pods pi-*', 'create pods pi-*', 'update jobs/status pi']);
  const p = client.actions[0]!.object! as any;
  t.equal(p.metadata.labels['batch.kubernetes.io/job-name'], 'pi');
  t.equal(p.metadata.labels['controller-uid'], 'job-uid');
  t.same(p.metadata.finalizers, [TRACKING_FINALIZER]);
  t.equal(p.metadata.ownerReferences[0].kind, 'Job');
  const st = lastStatus(client)!;
  t.equal(st.active, 2);
  t.equal(st.startTime, '2026-01-01T00:00:00Z');
});

t.test('a succeeded pod is counted once through uncountedTerminatedPods and a replacement is created', async (t) => {
  const { client, deps } = setup(job({ completions: 3, parallelism: 2 }, { startTime: iso(T0), active: 2 }), [
    pod('a', 'Succeeded'), pod('b', 'Running', {}, { conditions: [readyCondition()] }),
  ]);
  await reconcileJob(deps, 'default/pi');
  t.same(verbs(client), ['update jobs/status pi', 'patch pods a', 'create pods pi-*', 'update jobs/status pi']);
  t.same(client.actions[0]!.object!.status.uncountedTerminatedPods, { succeeded: ['uid-a'], failed: [] });
  t.same(client.actions[1]!.object, { metadata: { finalizers: null } });
  const st = lastStatus(client)!;
  t.equal(st.succeeded, 1);
  t.equal(st.active, 2);
  t.equal(st.ready, 1);
  t.same(st.uncountedTerminatedPods, {});
});

t.test('already counted pods (no finalizer) are not counted again', async (t) => {
  const p = pod('a', 'Succeeded');
  p.metadata.finalizers = [];
  const { client, deps } = setup(job({ completions: 2 }, { startTime: iso(T0), succeeded: 1, active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} }), [p, pod('b', 'Running')]);
  await reconcileJob(deps, 'default/pi');
  t.same(verbs(client), [], 'nothing changes');
});

t.test('reaching completions sets SuccessCriteriaMet and Complete with completionTime', async (t) => {
  const { client, deps } = setup(job({ completions: 2 }, { startTime: iso(T0), succeeded: 1, active: 1 }), [pod('b', 'Succeeded')]);
  await reconcileJob(deps, 'default/pi');
  const st = lastStatus(client)!;
  t.same(st.conditions.map((c: { type: string }) => c.type), ['SuccessCriteriaMet', 'Complete']);
  t.equal(st.succeeded, 2);
  t.equal(st.completionTime, '2026-01-01T00:00:00Z');
  t.notOk(st.active);
});

t.test('failures past backoffLimit fail the job and delete active pods', async (t) => {
  const { client, deps } = setup(job({ backoffLimit: 1, parallelism: 2, completions: 4 }, { startTime: iso(T0), failed: 1, active: 2 }), [
    pod('f', 'Failed'), pod('r', 'Running'),
  ]);
  await reconcileJob(deps, 'default/pi');
  t.same(verbs(client), ['update jobs/status pi', 'patch pods f', 'delete pods r', 'update jobs/status pi']);
  const st = lastStatus(client)!;
  t.equal(st.failed, 2);
  t.same(st.conditions.map((c: { type: string; reason: string }) => `${c.type}:${c.reason}`), ['FailureTarget:BackoffLimitExceeded', 'Failed:BackoffLimitExceeded']);
});

t.test('pod re-creation backs off 10 s after a failure', async (t) => {
  const clock = new FakeClock(T0);
  const finished = { containerStatuses: [{ state: { terminated: { finishedAt: iso(T0) } } }] };
  void finished;
  const { client, deps, requeues } = setup(job({ backoffLimit: 6 }, { startTime: iso(T0), active: 1 }), [pod('f', 'Failed', {}, finished)], clock);
  await reconcileJob(deps, 'default/pi');
  t.notOk(verbs(client).some((v) => v.startsWith('create')), 'no pod yet');
  t.same(requeues, [10_000]);
  clock.advance(10_000);
  const again = setup(job({ backoffLimit: 6 }, lastStatus(client)), [], clock);
  again.deps.backoff = deps.backoff;
  await reconcileJob(again.deps, 'default/pi');
  t.same(verbs(again.client).filter((v) => v.startsWith('create')), ['create pods pi-*']);
  t.equal(backoffDelay(2), 20_000);
  t.equal(backoffDelay(10), 360_000);
});

t.test('activeDeadlineSeconds fails the job with DeadlineExceeded and deletes pods', async (t) => {
  const clock = new FakeClock(T0 + 61_000);
  const { client, deps } = setup(job({ activeDeadlineSeconds: 60 }, { startTime: iso(T0), active: 1 }), [pod('r', 'Running')], clock);
  await reconcileJob(deps, 'default/pi');
  t.same(verbs(client), ['delete pods r', 'update jobs/status pi']);
  t.equal(lastStatus(client)!.conditions.at(-1).reason, 'DeadlineExceeded');
});

t.test('deadline not yet reached requeues for the remaining time', async (t) => {
  const clock = new FakeClock(T0 + 20_000);
  const { deps, requeues } = setup(job({ activeDeadlineSeconds: 60 }, { startTime: iso(T0), active: 1 }), [pod('r', 'Running')], clock);
  await reconcileJob(deps, 'default/pi');
  t.same(requeues, [40_000]);
});

t.test('Indexed jobs create one pod per missing index with annotation, env and hostname', async (t) => {
  const p1 = pod('pi-1-abc', 'Succeeded', { annotations: { 'batch.kubernetes.io/job-completion-index': '1' } });
  const { client, deps } = setup(job({ completionMode: 'Indexed', completions: 3, parallelism: 3 }, { startTime: iso(T0) }), [p1]);
  await reconcileJob(deps, 'default/pi');
  const creates = client.actions.filter((a) => a.verb === 'create');
  t.same(creates.map((a) => a.object!.metadata.annotations!['batch.kubernetes.io/job-completion-index']), ['0', '2']);
  const spec = creates[0]!.object!.spec;
  t.equal(spec.hostname, 'pi-0');
  t.equal(spec.containers[0].env[0].name, 'JOB_COMPLETION_INDEX');
  const st = lastStatus(client)!;
  t.equal(st.completedIndexes, '1');
  t.equal(st.succeeded, 1);
  t.equal(st.active, 2);
});

t.test('suspend deletes active pods without counting failures and sets Suspended', async (t) => {
  const { client, deps } = setup(job({ suspend: true }, { startTime: iso(T0), active: 1 }), [pod('r', 'Running')]);
  await reconcileJob(deps, 'default/pi');
  t.same(verbs(client), ['delete pods r', 'update jobs/status pi']);
  const st = lastStatus(client)!;
  t.equal(st.conditions[0].type, 'Suspended');
  t.notOk(st.failed);
});

t.test('ttlSecondsAfterFinished deletes the job in the background once expired', async (t) => {
  const done = { completionTime: iso(T0), conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: iso(T0) }] };
  const early = setup(job({ ttlSecondsAfterFinished: 100 }, done), [], new FakeClock(T0 + 30_000));
  await reconcileJob(early.deps, 'default/pi');
  t.same(verbs(early.client), []);
  t.same(early.requeues, [70_000]);
  const late = setup(job({ ttlSecondsAfterFinished: 100 }, done), [], new FakeClock(T0 + 100_000));
  await reconcileJob(late.deps, 'default/pi');
  t.same(verbs(late.client), ['delete jobs pi']);
});

t.test('index sets round-trip', async (t) => {
  t.equal(formatIndexes(parseIndexes('5,1-3,4,9')), '1-5,9');
  t.equal(formatIndexes([]), '');
});

// Wiring of the workload controllers' init functions (job, cronjob, daemonset, statefulset, disruption, hpa) on
// shared informers over a FakeClient: objects created through the client lead to the expected writes.
t.test('init functions react to objects created through the client', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), { metadata: { name: 'n1' }, spec: {} });
  const ac = new AbortController();
  const factory = new SharedInformerFactory({ client, clock: realClock });
  const ctx: ControllerContext = { client, factory, clock: realClock, recorder: () => nullRecorder };
  const runnables = [initJobController, initCronJobController, initDaemonSetController, initStatefulSetController, initDisruptionController]
    .map((init) => init(ctx));
  runnables.push(initHpaController(ctx, { metricsSource: async () => [] }));
  factory.start(ac.signal);
  await factory.waitForSync(ac.signal);
  const runs = runnables.map((r) => r.run(ac.signal));
  t.teardown(async () => { ac.abort(); await Promise.all(runs); await factory.stopped(); });

  const tmpl = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
  await client.create(batch('jobs'), { metadata: { name: 'j', namespace: 'default' }, spec: { template: tmpl } });
  await client.create(apps('daemonsets'), { metadata: { name: 'd', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'x' } }, template: tmpl } });
  await client.create(apps('statefulsets'), { metadata: { name: 's', namespace: 'default' }, spec: { replicas: 1, serviceName: 's', selector: { matchLabels: { app: 'x' } }, template: tmpl } });
  await client.create({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' }, { metadata: { name: 'b', namespace: 'default' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'x' } } } });
  await client.create({ group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' }, { metadata: { name: 'h', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 's' }, maxReplicas: 3 } });
  await client.create(batch('cronjobs'), { metadata: { name: 'c', namespace: 'default', creationTimestamp: new Date(Date.now() - 120_000).toISOString() }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: tmpl } } } });

  const owners = () => client.objects(core('pods')).map((p: KubeObject) => p.metadata.ownerReferences?.[0]?.kind).sort();
  await until('job, daemonset and statefulset pods', () => ['DaemonSet', 'Job', 'StatefulSet'].every((k) => owners().includes(k)));
  await until('cronjob job', () => client.objects(batch('jobs')).some((j) => j.metadata.ownerReferences?.[0]?.kind === 'CronJob'));
  await until('pdb status', () => client.objects({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' })[0]?.status?.expectedPods !== undefined);
  await until('hpa status', () => !!client.objects({ group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' })[0]?.status?.conditions);
  await until('daemonset status', () => client.objects(apps('daemonsets'))[0]?.status?.desiredNumberScheduled === 1);
  t.ok(client.objects(apps('controllerrevisions')).length >= 2, 'daemonset and statefulset revisions');
});

t.test('podFailurePolicy: FailJob fails the job at once, Ignore does not count', async (t) => {
  const exited = (code: number) => ({ containerStatuses: [{ name: 'c', state: { terminated: { exitCode: code } } }] });
  const policy = { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }, { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] };
  const fail = setup(job({ parallelism: 2, completions: 2, podFailurePolicy: policy }, { startTime: iso(T0), active: 2 }), [pod('f', 'Failed', {}, exited(42)), pod('r', 'Running')]);
  await reconcileJob(fail.deps, 'default/pi');
  t.same(verbs(fail.client), ['update jobs/status pi', 'patch pods f', 'delete pods r', 'update jobs/status pi']);
  const st = lastStatus(fail.client)!;
  t.same(st.conditions.map((c: { type: string; reason: string }) => `${c.type}:${c.reason}`), ['FailureTarget:PodFailurePolicy', 'Failed:PodFailurePolicy']);
  t.match(st.conditions[1].message, /exit code 42 matching FailJob rule at index 0/);
  const ignore = setup(job({ podFailurePolicy: policy }, { startTime: iso(T0), active: 1 }), [pod('d', 'Failed', {}, { ...exited(1), conditions: [{ type: 'DisruptionTarget', status: 'True' }] })]);
  await reconcileJob(ignore.deps, 'default/pi');
  t.same(verbs(ignore.client), ['patch pods d', 'create pods pi-*', 'update jobs/status pi']);
  t.notOk(lastStatus(ignore.client)!.failed);
});

t.test('successPolicy completes an Indexed job early and stops the rest', async (t) => {
  const p0 = pod('pi-0-a', 'Succeeded', { annotations: { 'batch.kubernetes.io/job-completion-index': '0' } });
  const p1 = pod('pi-1-a', 'Running', { annotations: { 'batch.kubernetes.io/job-completion-index': '1' } });
  const spec = { completionMode: 'Indexed', completions: 3, parallelism: 3, successPolicy: { rules: [{ succeededIndexes: '0' }] } };
  const { client, deps } = setup(job(spec, { startTime: iso(T0), active: 2 }), [p0, p1]);
  await reconcileJob(deps, 'default/pi');
  t.same(verbs(client), ['update jobs/status pi', 'patch pods pi-0-a', 'delete pods pi-1-a', 'update jobs/status pi']);
  const st = lastStatus(client)!;
  t.same(st.conditions.map((c: { type: string; reason: string }) => `${c.type}:${c.reason}`), ['SuccessCriteriaMet:SuccessPolicy', 'Complete:SuccessPolicy']);
  t.equal(st.completedIndexes, '0');
});

t.test('pods of a deleted job lose the tracking finalizer', async (t) => {
  const { client, listers } = seeded([[batch('jobs'), []], [core('pods'), [pod('a', 'Running'), pod('b', 'Succeeded')]]]);
  const deps: JobDeps = { client, clock: new FakeClock(T0), jobs: listers[0]!, pods: listers[1]! };
  await reconcileJob(deps, 'default/pi');
  t.same(verbs(client), ['patch pods a', 'patch pods b']);
});

t.test('expectations: no second round of pods before the first is observed', async (t) => {
  const { client, deps } = setup(job({ parallelism: 2, completions: 2 }));
  deps.expectations = new Expectations(deps.clock);
  await reconcileJob(deps, 'default/pi');
  t.equal(verbs(client).filter((v) => v.startsWith('create')).length, 2);
  client.actions.length = 0;
  deps.jobs = listerOf(client.objects(batch('jobs')));
  await reconcileJob(deps, 'default/pi');
  t.same(verbs(client).filter((v) => v.startsWith('create')), [], 'informer has not seen them yet');
  deps.expectations.creationObserved('default/pi');
  deps.expectations.creationObserved('default/pi');
  deps.jobs = listerOf(client.objects(batch('jobs')));
  await reconcileJob(deps, 'default/pi');
  t.equal(verbs(client).filter((v) => v.startsWith('create')).length, 2, 'stale lister, expectations satisfied: creates again (as Kubernetes would)');
});

t.test('backoffLimitPerIndex fails single indexes and counts failures per index', async (t) => {
  const idx = (i: number, failures: number) => ({ annotations: { 'batch.kubernetes.io/job-completion-index': String(i), 'batch.kubernetes.io/job-index-failure-count': String(failures) } });
  const pods = () => [pod('p0', 'Failed', idx(0, 0)), pod('p1', 'Failed', idx(1, 1)), pod('p2', 'Running', idx(2, 0))];
  const spec = { completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimitPerIndex: 1 };
  const { client, deps } = setup(job(spec, { startTime: iso(T0), active: 3 }), pods());
  deps.backoff = undefined; // no re-creation delay in this test
  await reconcileJob(deps, 'default/pi');
  const creates = client.actions.filter((a) => a.verb === 'create');
  t.same(creates.map((a) => [a.object!.metadata.annotations!['batch.kubernetes.io/job-completion-index'], a.object!.metadata.annotations!['batch.kubernetes.io/job-index-failure-count']]), [['0', '1']]);
  const st = lastStatus(client)!;
  t.equal(st.failedIndexes, '1');
  t.equal(st.failed, 2);
  t.notOk(st.conditions, 'not failed yet: index 2 still runs');
  const max = setup(job({ ...spec, maxFailedIndexes: 0 }, { startTime: iso(T0), active: 3 }), pods());
  await reconcileJob(max.deps, 'default/pi');
  t.equal(lastStatus(max.client)!.conditions.at(-1).reason, 'MaxFailedIndexesExceeded');
});
