import t from 'tap';
import { apps, core, type KubeObject } from '../client/types.ts';
import { FakeClock } from '../clock.ts';
import { Expectations } from '../controller/expectations.ts';
import { listerOf, readyCondition, seeded, verbs } from './controller-revision-fixtures.ts';
import { rankForDeletion } from './pod-control.ts';
import { reconcileReplicaSet, replicaSetKind, replicationControllerKind, type ReplicaSetDeps } from './replicaset.ts';

const rs = (replicas: number, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet',
  metadata: { name: 'web', namespace: 'ns', uid: 'rs-uid', generation: 2 },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }, ...extra },
});
const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true };
const pod = (name: string, o: { node?: string; phase?: string; ready?: boolean; readySince?: string; owned?: boolean; labels?: Record<string, string>; created?: string; restarts?: number } = {}): KubeObject => ({
  metadata: { name, namespace: 'ns', uid: `pod-${name}`, labels: o.labels ?? { app: 'web' }, ownerReferences: o.owned === false ? undefined : [owner], creationTimestamp: o.created ?? '2024-01-01T00:00:00Z' },
  spec: { nodeName: o.node },
  status: { phase: o.phase ?? 'Running', conditions: o.ready ? [readyCondition(o.readySince)] : [], containerStatuses: [{ restartCount: o.restarts ?? 0 }] },
});

function deps(owners: KubeObject[], pods: KubeObject[], kind = replicaSetKind) {
  const { client, listers } = seeded([[kind.ref, owners], [core('pods'), pods]]);
  const clock = new FakeClock(Date.parse('2024-06-01T00:00:00Z'));
  const d: ReplicaSetDeps = { client, clock, owners: listers[0]!, pods: listers[1]!, kind, expectations: new Expectations(clock) };
  return { client, d };
}

t.test('scale up creates pods from the template with a controller ownerReference', async (t) => {
  const { client, d } = deps([rs(3)], [pod('a', { ready: true, node: 'n' })]);
  await reconcileReplicaSet(d, 'ns/web');
  t.same(verbs(client), ['create pods web-*', 'create pods web-*', 'update replicasets/status web']);
  const created = client.actions[0]!.object!;
  t.same(created.metadata.ownerReferences, [{ ...owner, blockOwnerDeletion: true }]);
  t.same(created.metadata.labels, { app: 'web' });
  const st = client.objects(apps('replicasets'))[0]!.status;
  t.match(st, { replicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 2 });
  // expectations: a second reconcile before the informer saw the new pods creates nothing
  client.actions.length = 0;
  d.owners = listerOf(client.objects(apps('replicasets')));
  await reconcileReplicaSet(d, 'ns/web');
  t.same(verbs(client).filter((v) => v.startsWith('create')), []);
});

t.test('scale down deletes the least valuable pods first', async (t) => {
  const pods = [
    pod('ready-old', { node: 'n1', ready: true, created: '2024-01-01T00:00:00Z' }),
    pod('unscheduled', { phase: 'Pending' }),
    pod('pending', { node: 'n1', phase: 'Pending' }),
    pod('notready', { node: 'n2' }),
    pod('ready-new', { node: 'n2', ready: true, created: '2024-02-01T00:00:00Z' }),
  ];
  const { client, d } = deps([rs(1)], pods);
  await reconcileReplicaSet(d, 'ns/web');
  t.same(verbs(client).filter((v) => v.startsWith('delete')).sort(), ['delete pods notready', 'delete pods pending', 'delete pods ready-new', 'delete pods unscheduled']);
  t.same(rankForDeletion(pods).map((p) => p.metadata.name), ['unscheduled', 'pending', 'notready', 'ready-new', 'ready-old']);
});

t.test('more restarts deleted first among equals', async (t) => {
  t.same(rankForDeletion([pod('a', { node: 'n', ready: true, restarts: 0 }), pod('b', { node: 'm', ready: true, restarts: 3 })]).map((p) => p.metadata.name), ['b', 'a']);
});

t.test('adopts matching orphans and releases pods that stopped matching', async (t) => {
  const { client, d } = deps([rs(2)], [pod('orphan', { owned: false, ready: true }), pod('gone', { labels: { app: 'other' } }), pod('mine', { ready: true })]);
  await reconcileReplicaSet(d, 'ns/web');
  t.same(verbs(client), ['patch pods gone', 'patch pods orphan', 'update replicasets/status web']);
  t.notOk(client.objects(core('pods')).find((p) => p.metadata.name === 'gone')?.metadata.ownerReferences);
  t.equal(client.objects(core('pods')).find((p) => p.metadata.name === 'orphan')?.metadata.ownerReferences?.[0]?.uid, 'rs-uid');
});

t.test('steady state writes nothing; minReadySeconds gates availability', async (t) => {
  const first = deps([rs(1, { minReadySeconds: 3600 })], [pod('a', { node: 'n', ready: true, readySince: '2024-06-01T00:00:00Z' })]);
  await reconcileReplicaSet(first.d, 'ns/web');
  const saved = first.client.objects(apps('replicasets'))[0]!;
  t.match(saved.status, { replicas: 1, readyReplicas: 1 });
  t.notOk(saved.status.availableReplicas, 'not available before minReadySeconds');
  const again = deps([saved], [pod('a', { node: 'n', ready: true, readySince: '2024-06-01T00:00:00Z' })]);
  await reconcileReplicaSet(again.d, 'ns/web');
  t.same(again.client.actions, [], 'no write when nothing changed');
});

t.test('replication controller uses its map selector and v1 owner', async (t) => {
  const rc: KubeObject = { metadata: { name: 'web', namespace: 'ns', uid: 'rc-uid' }, spec: { replicas: 1, selector: { app: 'web' }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } } } };
  const { client, d } = deps([rc], [], replicationControllerKind);
  await reconcileReplicaSet(d, 'ns/web');
  t.same(verbs(client), ['create pods web-*', 'update replicationcontrollers/status web']);
  t.match(client.actions[0]!.object!.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'ReplicationController', uid: 'rc-uid' }]);
  void listerOf;
});

t.test('failing creates: slow start tries once, records ReplicaFailure', async (t) => {
  const { client, d } = deps([rs(5)], []);
  let attempts = 0;
  const create = client.create.bind(client);
  client.create = (async (ref: any, obj: any, ns?: string) => {
    if (ref.resource === 'pods') { attempts++; throw new Error('exceeded quota: pods'); }
    return create(ref, obj, ns);
  }) as typeof client.create;
  await reconcileReplicaSet(d, 'ns/web');
  t.equal(attempts, 1);
  t.match(client.objects(apps('replicasets'))[0]!.status.conditions, [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'exceeded quota: pods' }]);
  t.ok(d.expectations!.satisfied('ns/web'), 'expectations lowered for creates never made');
});
