import t from 'tap';
import { apps, core, type KubeObject } from '../client/types.ts';
import { FakeClock } from '../clock.ts';
import { readyCondition, seeded, verbs } from './controller-revision-fixtures.ts';
import { reconcileHpa, targetRef, type HpaDeps } from './hpa.ts';
import { newHistory, normalizeDesired, recordScale, resourceReplicas, type PodMetrics } from './hpa-replicas.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const hpaRef = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' };

const pod = (name: string, ready = true, cpuRequest = '100m'): KubeObject => ({
  metadata: { name, namespace: 'default', labels: { app: 'w' } },
  spec: { containers: [{ name: 'c', resources: { requests: { cpu: cpuRequest, memory: '64Mi' } } }] },
  status: { phase: 'Running', conditions: ready ? [readyCondition()] : [] },
});
const usage = (name: string, cpu: string, memory = '32Mi'): PodMetrics => ({ metadata: { name, namespace: 'default' }, containers: [{ name: 'c', usage: { cpu, memory } }] });
const cpuUtil = (n: number) => ({ type: 'Utilization' as const, averageUtilization: n });

t.test('resourceReplicas: utilization, tolerance, average value, missing and unready pods', async (t) => {
  const pods = [pod('a'), pod('b')];
  t.equal(resourceReplicas({ currentReplicas: 2, resource: 'cpu', target: cpuUtil(50), pods, metrics: [usage('a', '100m'), usage('b', '100m')] }).replicas, 4);
  t.equal(resourceReplicas({ currentReplicas: 2, resource: 'cpu', target: cpuUtil(50), pods, metrics: [usage('a', '52m'), usage('b', '52m')] }).replicas, 2, 'within tolerance');
  const r = resourceReplicas({ currentReplicas: 2, resource: 'cpu', target: cpuUtil(50), pods, metrics: [usage('a', '10m'), usage('b', '10m')] });
  t.same(r, { replicas: 1, utilization: 10, averageValue: 10 });
  t.equal(resourceReplicas({ currentReplicas: 2, resource: 'memory', target: { type: 'AverageValue', averageValue: '16Mi' }, pods, metrics: [usage('a', '1m'), usage('b', '1m')] }).replicas, 4);
  // scale up with a pod missing metrics: it counts as 0 usage, damping the step
  const three = [pod('a'), pod('b'), pod('c')];
  t.equal(resourceReplicas({ currentReplicas: 3, resource: 'cpu', target: cpuUtil(50), pods: three, metrics: [usage('a', '100m'), usage('b', '100m')] }).replicas, 4);
  // unready pods do not drive a scale up
  t.equal(resourceReplicas({ currentReplicas: 3, resource: 'cpu', target: cpuUtil(50), pods: [pod('a'), pod('b'), pod('u', false)], metrics: [usage('a', '100m'), usage('b', '100m'), usage('u', '500m')] }).replicas, 4);
  t.throws(() => resourceReplicas({ currentReplicas: 1, resource: 'cpu', target: cpuUtil(50), pods: [{ ...pod('a'), spec: { containers: [{ name: 'c' }] } }], metrics: [usage('a', '1m')] }), /missing request/);
});

t.test('normalizeDesired: scale-down stabilization window and scale-up rate policies', async (t) => {
  const h = newHistory();
  t.same(normalizeDesired({ current: 4, desired: 8, min: 1, max: 10, history: h, now: NOW }), { replicas: 8, limited: undefined });
  const h2 = newHistory();
  t.same(normalizeDesired({ current: 2, desired: 20, min: 1, max: 30, history: h2, now: NOW }), { replicas: 6, limited: 'ScaleUpLimit' }, 'max(100%, 4 pods) per 15 s');
  recordScale(h2, 2, 6, NOW);
  t.equal(normalizeDesired({ current: 6, desired: 20, min: 1, max: 30, history: h2, now: NOW + 5_000 }).replicas, 6, 'budget used within the period');
  t.equal(normalizeDesired({ current: 6, desired: 20, min: 1, max: 30, history: h2, now: NOW + 16_000 }).replicas, 12);
  const d = newHistory();
  t.equal(normalizeDesired({ current: 5, desired: 5, min: 1, max: 10, history: d, now: NOW }).replicas, 5);
  t.equal(normalizeDesired({ current: 5, desired: 2, min: 1, max: 10, history: d, now: NOW + 60_000 }).replicas, 5, 'held by the 300 s window');
  t.equal(normalizeDesired({ current: 5, desired: 2, min: 1, max: 10, history: d, now: NOW + 301_000 }).replicas, 2);
  t.same(normalizeDesired({ current: 5, desired: 12, min: 1, max: 7, history: newHistory(), now: NOW }), { replicas: 7, limited: 'TooManyReplicas' });
  t.same(normalizeDesired({ current: 5, desired: 1, min: 3, max: 7, history: newHistory(), now: NOW, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }), { replicas: 3, limited: 'TooFewReplicas' });
  t.same(targetRef({ apiVersion: 'apps/v1', kind: 'Deployment' }), apps('deployments'));
});

function setup(hpaSpec: Record<string, unknown>, replicas: number, pods: KubeObject[], metrics: PodMetrics[]) {
  const hpa = { metadata: { name: 'w', namespace: 'default', generation: 1 }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'w' }, minReplicas: 1, maxReplicas: 10, ...hpaSpec } };
  const deployment = { metadata: { name: 'w', namespace: 'default' }, spec: { replicas, selector: { matchLabels: { app: 'w' } } } };
  const { client, listers } = seeded([[hpaRef, [hpa]], [apps('deployments'), [deployment]], [core('pods'), pods]]);
  const deps: HpaDeps = { client, clock: new FakeClock(NOW), hpas: listers[0]!, pods: listers[2]!, metrics: async () => metrics, history: new Map() };
  return { client, deps };
}
const statusOf = (c: ReturnType<typeof setup>['client']) => c.actions.find((a) => a.subresource === 'status')?.object?.status;
const condOf = (st: { conditions: { type: string; status: string; reason: string }[] }, type: string) => st.conditions.find((c) => c.type === type);

t.test('reconcile scales the target through the scale subresource and reports status', async (t) => {
  const metrics = [{ type: 'Resource', resource: { name: 'cpu', target: cpuUtil(50) } }];
  const { client, deps } = setup({ metrics }, 2, [pod('a'), pod('b')], [usage('a', '100m'), usage('b', '100m')]);
  await reconcileHpa(deps, 'default/w');
  t.same(verbs(client), ['patch deployments/scale w', 'update horizontalpodautoscalers/status w']);
  t.same(client.actions[0]!.object, { spec: { replicas: 4 } });
  const st = statusOf(client)!;
  t.match(st, { currentReplicas: 2, desiredReplicas: 4, lastScaleTime: '2026-01-01T00:00:00Z', observedGeneration: 1 });
  t.same(st.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageValue: '100m', averageUtilization: 100 } } }]);
  t.match(condOf(st, 'AbleToScale'), { status: 'True', reason: 'SucceededRescale' });
  t.match(condOf(st, 'ScalingActive'), { status: 'True', reason: 'ValidMetricFound' });
  t.match(condOf(st, 'ScalingLimited'), { status: 'False', reason: 'DesiredWithinRange' });
});

t.test('missing metrics make ScalingActive false without scaling; zero replicas disable scaling', async (t) => {
  const { client, deps } = setup({}, 2, [pod('a'), pod('b')], []);
  await reconcileHpa(deps, 'default/w');
  t.same(verbs(client), ['update horizontalpodautoscalers/status w']);
  t.match(condOf(statusOf(client)!, 'ScalingActive'), { status: 'False', reason: 'FailedGetResourceMetric' });
  const zero = setup({}, 0, [], []);
  await reconcileHpa(zero.deps, 'default/w');
  t.match(condOf(statusOf(zero.client)!, 'ScalingActive'), { status: 'False', reason: 'ScalingDisabled' });
  t.equal(statusOf(zero.client)!.desiredReplicas, 0);
});

t.test('below minReplicas the target is raised to the minimum', async (t) => {
  const { client, deps } = setup({ minReplicas: 3 }, 2, [pod('a'), pod('b')], [usage('a', '80m'), usage('b', '80m')]);
  await reconcileHpa(deps, 'default/w');
  t.same(client.actions[0]!.object, { spec: { replicas: 3 } });
  t.match(condOf(statusOf(client)!, 'ScalingLimited'), { status: 'True', reason: 'TooFewReplicas' });
});

t.test('ContainerResource metrics look at one container only', async (t) => {
  const twoContainers = (name: string): KubeObject => ({
    metadata: { name, namespace: 'default', labels: { app: 'w' } },
    spec: { containers: [{ name: 'app', resources: { requests: { cpu: '100m' } } }, { name: 'sidecar', resources: { requests: { cpu: '100m' } } }] },
    status: { phase: 'Running', conditions: [readyCondition()] },
  });
  const m = (name: string): PodMetrics => ({ metadata: { name }, containers: [{ name: 'app', usage: { cpu: '100m' } }, { name: 'sidecar', usage: { cpu: '0' } }] });
  const metrics = [{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: cpuUtil(50) } }];
  const { client, deps } = setup({ metrics }, 2, [twoContainers('a'), twoContainers('b')], [m('a'), m('b')]);
  await reconcileHpa(deps, 'default/w');
  t.same(client.actions[0]!.object, { spec: { replicas: 4 } }, 'app at 100% of 50% target; the idle sidecar is ignored');
  t.match(statusOf(client)!.currentMetrics[0], { type: 'ContainerResource', containerResource: { container: 'app', current: { averageUtilization: 100 } } });
});

t.test('a target above maxReplicas is brought down without metrics', async (t) => {
  const { client, deps } = setup({ maxReplicas: 3 }, 5, [], []);
  await reconcileHpa(deps, 'default/w');
  t.same(client.actions[0]!.object, { spec: { replicas: 3 } });
  t.match(condOf(statusOf(client)!, 'ScalingLimited'), { status: 'True', reason: 'TooManyReplicas' });
});
