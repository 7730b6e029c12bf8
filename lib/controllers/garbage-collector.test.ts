import t from 'tap';
import { FakeClient } from '../client/fake.ts';
import { apps, core, type KubeObject } from '../client/types.ts';
import { byOwnerUid, Cache } from '../controller/cache.ts';
import { verbs } from './controller-revision-fixtures.ts';
import { defaultGCResources, GarbageCollector, FOREGROUND, ORPHAN } from './garbage-collector.ts';

const rsRef = (uid: string, block = false) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid, controller: true, blockOwnerDeletion: block });
const pod = (name: string, owners: unknown[], extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({ metadata: { name, namespace: 'ns', uid: `p-${name}`, ownerReferences: owners as never, ...extra } });
const rs = (uid: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({ metadata: { name: 'rs', namespace: 'ns', uid, ...extra } });

function setup(objs: { pods?: KubeObject[]; rss?: KubeObject[] }) {
  const client = new FakeClient();
  client.seed(core('pods'), ...(objs.pods ?? []));
  client.seed(apps('replicasets'), ...(objs.rss ?? []));
  const build = () => defaultGCResources.map((r) => {
    const c = new Cache();
    c.addIndexer('ownerUid', byOwnerUid);
    c.addIndexer('uid', (o) => [o.metadata.uid!]);
    for (const o of client.objects(r.ref)) c.put(o);
    return c;
  });
  const gc = new GarbageCollector({ client, resources: defaultGCResources, listers: build() });
  const podKey = (name: string) => `0|ns/${name}`;
  const rsKey = `${defaultGCResources.findIndex((r) => r.kind === 'ReplicaSet')}|ns/rs`;
  return { client, gc, podKey, rsKey, refresh: () => { (gc.d as unknown as { listers: Cache[] }).listers = build(); } };
}

t.test('background: dependents of a gone owner are deleted; of a live owner kept', async (t) => {
  const s = setup({ pods: [pod('orphaned', [rsRef('gone')]), pod('kept', [rsRef('live')])], rss: [rs('live')] });
  await s.gc.reconcile(s.podKey('orphaned'));
  await s.gc.reconcile(s.podKey('kept'));
  t.same(verbs(s.client), ['delete pods orphaned']);
});

t.test('an owner recreated under the same name with a new uid does not keep old dependents', async (t) => {
  const s = setup({ pods: [pod('old', [rsRef('uid-1')])], rss: [rs('uid-2')] });
  await s.gc.reconcile(s.podKey('old'));
  t.same(verbs(s.client), ['delete pods old']);
});

t.test('dangling references are dropped when another owner is alive', async (t) => {
  const s = setup({ pods: [pod('two', [rsRef('gone'), { apiVersion: 'v1', kind: 'Pod', name: 'live', uid: 'p-live' }]), pod('live', [])] });
  await s.gc.reconcile(s.podKey('two'));
  t.same(verbs(s.client), ['patch pods two']);
  t.same(s.client.objects(core('pods')).find((p) => p.metadata.name === 'two')!.metadata.ownerReferences!.map((r) => r.uid), ['p-live']);
});

t.test('owners of kinds not watched are never presumed gone', async (t) => {
  const s = setup({ pods: [pod('crd', [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: 'w1' }])] });
  await s.gc.reconcile(s.podKey('crd'));
  t.same(s.client.actions, []);
});

t.test('foreground: dependents deleted first, then the finalizer is removed', async (t) => {
  const s = setup({
    rss: [rs('fg', { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: [FOREGROUND] })],
    pods: [pod('a', [rsRef('fg', true)]), pod('b', [rsRef('fg', true)])],
  });
  await s.gc.reconcile(s.rsKey);
  t.same(verbs(s.client).sort(), ['delete pods a', 'delete pods b'], 'finalizer kept while blocking dependents exist');
  s.refresh();
  s.client.actions.length = 0;
  await s.gc.reconcile(s.rsKey);
  t.same(verbs(s.client), ['patch replicasets rs']);
  t.notOk(s.client.objects(apps('replicasets'))[0]!.metadata.finalizers);
});

t.test('orphan: owner references removed from dependents, then the orphan finalizer', async (t) => {
  const s = setup({ rss: [rs('o', { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: [ORPHAN] })], pods: [pod('a', [rsRef('o')])] });
  await s.gc.reconcile(s.rsKey);
  t.same(verbs(s.client), ['patch pods a', 'patch replicasets rs']);
  t.notOk(s.client.objects(core('pods'))[0]!.metadata.ownerReferences);
});
