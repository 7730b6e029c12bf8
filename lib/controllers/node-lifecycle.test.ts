import t from 'tap';
import { coordination, core, type KubeObject } from '../client/types.ts';
import { FakeClock } from '../clock.ts';
import { listerOf, readyCondition, seeded, verbs } from './controller-revision-fixtures.ts';
import { evictionTime, reconcileNode, type NodeLifecycleDeps } from './node-lifecycle.ts';

const T0 = Date.parse('2024-06-01T00:00:00Z');
const node = (status = 'True', taints?: unknown[]): KubeObject => ({
  metadata: { name: 'n1', creationTimestamp: '2024-05-01T00:00:00Z' }, spec: taints ? { taints } : {},
  status: { conditions: [{ type: 'Ready', status, lastHeartbeatTime: '2024-06-01T00:00:00Z' }, { type: 'MemoryPressure', status: 'False' }] },
});
const lease = (renew: string) => ({ metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1', renewTime: renew } });
const defaultTols = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];
const pod = (name: string, tolerations?: unknown[]): KubeObject => ({
  metadata: { name, namespace: 'ns', uid: name }, spec: { nodeName: 'n1', tolerations }, status: { phase: 'Running', conditions: [readyCondition()] },
});

function setup(n: KubeObject, pods: KubeObject[]) {
  const { client, listers } = seeded([[core('nodes'), [n]], [coordination('leases'), [lease('2024-06-01T00:00:00.000000Z')]], [core('pods'), pods]]);
  const clock = new FakeClock(T0);
  const requeues: number[] = [];
  listers[2]!.addIndexer('nodeName', (o) => (o.spec?.nodeName ? [o.spec.nodeName] : []));
  const d: NodeLifecycleDeps = { client, clock, nodes: listers[0]!, leases: listers[1]!, pods: listers[2]!, observed: new Map(), requeueAfter: (_k, ms) => requeues.push(ms) };
  const refresh = () => {
    d.nodes = listerOf(client.objects(core('nodes')));
    const p = listerOf(client.objects(core('pods')));
    p.addIndexer('nodeName', (o) => (o.spec?.nodeName ? [o.spec.nodeName] : []));
    d.pods = p;
  };
  return { client, clock, d, requeues, refresh };
}

t.test('healthy node: nothing written, checked again when the grace period would end', async (t) => {
  const s = setup(node(), [pod('a')]);
  await reconcileNode(s.d, 'n1');
  t.same(s.client.actions, []);
  t.same(s.requeues, [40_000]);
});

t.test('a node seen for the first time gets one RegisteredNode event', async (t) => {
  const s = setup(node(), []);
  const events: string[] = [];
  s.d.recorder = { event: (o, type, reason, msg) => events.push(`${o.kind}/${o.metadata.name} ${type} ${reason} ${msg}`) };
  await reconcileNode(s.d, 'n1');
  await reconcileNode(s.d, 'n1');
  t.same(events, ['Node/n1 Normal RegisteredNode Node n1 event: Registered Node n1 in Controller']);
});

t.test('lease not renewed for 40 s → Unknown, pods not ready, unreachable taints; eviction after tolerationSeconds', async (t) => {
  const s = setup(node(), [pod('tolerant', defaultTols), pod('intolerant', []), pod('forever', [{ operator: 'Exists' }])]);
  await reconcileNode(s.d, 'n1');
  s.clock.advance(40_000);
  await reconcileNode(s.d, 'n1');
  const v = verbs(s.client);
  t.same(v.slice(0, 1), ['update nodes/status n1']);
  t.ok(v.includes('update pods/status tolerant') && v.includes('update pods/status intolerant'), 'pods marked not ready');
  t.ok(v.includes('update nodes n1'), 'taints added');
  t.ok(v.includes('delete pods intolerant'), 'pod without tolerations evicted at once');
  t.notOk(v.includes('delete pods tolerant'));
  const n = s.client.objects(core('nodes'))[0]!;
  t.same(n.status.conditions.map((c: { status: string }) => c.status), ['Unknown', 'Unknown']);
  t.equal(n.status.conditions[0].reason, 'NodeStatusUnknown');
  t.same(n.spec.taints.map((x: { key: string; effect: string }) => `${x.key}:${x.effect}`), ['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
  t.equal(s.requeues.at(-1), 300_000, 'tolerant pod evicted after 300 s');
  s.refresh();
  s.client.actions.length = 0;
  s.clock.advance(100_000);
  await reconcileNode(s.d, 'n1');
  t.same(verbs(s.client), [], 'nothing more before tolerationSeconds');
  s.clock.advance(200_000);
  await reconcileNode(s.d, 'n1');
  t.same(verbs(s.client), ['delete pods tolerant']);
});

t.test('Ready=False gives not-ready taints; Ready again removes them', async (t) => {
  const s = setup(node('False'), []);
  await reconcileNode(s.d, 'n1');
  t.same(s.client.objects(core('nodes'))[0]!.spec.taints.map((x: { key: string }) => x.key), ['node.kubernetes.io/not-ready', 'node.kubernetes.io/not-ready']);
  const back = s.client.objects(core('nodes'))[0]!;
  back.status.conditions[0].status = 'True';
  s.d.nodes = listerOf([back]);
  s.client.actions.length = 0;
  await s.client.update(core('nodes'), back, 'status');
  s.d.nodes = listerOf(s.client.objects(core('nodes')));
  s.client.actions.length = 0;
  await reconcileNode(s.d, 'n1');
  t.same(verbs(s.client), ['update nodes n1']);
  t.notOk(s.client.objects(core('nodes'))[0]!.spec.taints);
});

t.test('unschedulable node gets the unschedulable taint; user taints kept', async (t) => {
  const n = node('True', [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]);
  n.spec.unschedulable = true;
  const s = setup(n, []);
  await reconcileNode(s.d, 'n1');
  t.same(s.client.objects(core('nodes'))[0]!.spec.taints.map((x: { key: string }) => x.key), ['dedicated', 'node.kubernetes.io/unschedulable']);
});

t.test('evictionTime', async (t) => {
  const taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-06-01T00:00:00Z' };
  t.equal(evictionTime(pod('a', defaultTols), [taint]), T0 + 300_000);
  t.equal(evictionTime(pod('a', []), [taint]), 0);
  t.equal(evictionTime(pod('a', [{ operator: 'Exists', effect: 'NoExecute' }]), [taint]), undefined);
  t.equal(evictionTime(pod('a', []), [{ key: 'x', effect: 'NoSchedule' }]), undefined);
});

t.test('a lease declaring a longer duration extends the grace period', async (t) => {
  const s = setup(node(), []);
  s.d.leases = listerOf([{ metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { renewTime: 'x', leaseDurationSeconds: 120 } }]);
  await reconcileNode(s.d, 'n1');
  s.clock.advance(60_000);
  await reconcileNode(s.d, 'n1');
  t.same(s.client.actions, []);
  t.equal(s.requeues.at(-1), 60_000);
});

t.test('pressure conditions become NoSchedule taints', async (t) => {
  const n = node();
  n.status.conditions[1].status = 'True';
  const s = setup(n, []);
  await reconcileNode(s.d, 'n1');
  t.same(s.client.objects(core('nodes'))[0]!.spec.taints, [{ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }]);
});
