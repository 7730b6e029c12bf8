import t from 'tap';
import { ApiError, apps, core, type KubeObject } from '../../client/types.ts';
import { FakeClock } from '../../clock.ts';
import { join } from 'node:path';
import { MemoryStore } from '../../store/memory.ts';
import { SqliteStore } from '../../store/sqlite.ts';
import type { Store } from '../../store/types.ts';
import { createRegistry } from './index.ts';
import { list } from './list.ts';
import { watch } from './watch.ts';
import { tempDir } from '../../test-fixture.ts';

// Every case runs against the memory store and the SQLite store (TSK_REGISTRY_STORE=memory|sqlite picks one).
const which = process.env.TSK_REGISTRY_STORE;
const kinds = which ? [which] : ['memory', 'sqlite'];
let current = 'memory';
const baseTest = t.test.bind(t);
(t as unknown as { test: unknown }).test = (name: string, fn: (t: never) => Promise<void>) => {
  for (const k of kinds) void baseTest(`${name} [${k}]`, async (tt) => { current = k; await fn(tt as never); });
};

function newStore(t: { teardown(fn: () => unknown): void }): Store {
  if (current === 'memory') return new MemoryStore();
  const dir = tempDir(t, 'tsk-registry-');
  return new SqliteStore({ path: join(dir, 'state.db') });
}

function setup(t: { teardown(fn: () => unknown): void }) {
  const store = newStore(t) as MemoryStore;
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const { registry, client } = createRegistry({ store, clock, bookmarkIntervalMs: 50 });
  t.teardown(() => store.close());
  return { store, clock, registry, client };
}

const code = (e: unknown) => (e as ApiError).code;
const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const cm = (name: string, labels?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { a: '1' } });
const pod = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra } });

t.test('create, get, update, conflict, generation', async (t) => {
  const { client, store } = setup(t);
  await client.create<KubeObject>(core('namespaces'), ns('default'));
  const created = await client.create<KubeObject>(core('configmaps'), cm('x'), 'default');
  t.ok(created.metadata.uid);
  t.equal(created.metadata.creationTimestamp, '2026-01-01T00:00:00Z');
  t.equal(created.metadata.resourceVersion, String(store.currentRevision()));
  t.equal(created.metadata.generation, undefined, 'ConfigMaps have no generation, as upstream');
  t.ok((await store.get('/registry/configmaps/default/x')).kv);
  await t.rejects(client.create<KubeObject>(core('configmaps'), cm('x'), 'default'), { code: 409, reason: 'AlreadyExists', message: 'configmaps "x" already exists' });
  await t.rejects(client.create<KubeObject>(core('configmaps'), cm('y'), 'nope'), { code: 404, message: 'namespaces "nope" not found' });
  const upd = await client.update<KubeObject>(core('configmaps'), { ...created, data: { a: '2' } });
  t.equal(upd.metadata.generation, undefined);
  await t.rejects(client.update<KubeObject>(core('configmaps'), { ...created, data: { a: '3' } }), { code: 409, reason: 'Conflict' });
  // unconditional update without resourceVersion
  const { resourceVersion, ...m } = upd.metadata; void resourceVersion;
  const u2 = await client.update<KubeObject>(core('configmaps'), { ...upd, metadata: m, data: { a: '4' } });
  t.equal(u2.data.a, '4');
  // no-op update keeps the revision
  const same = await client.update<KubeObject>(core('configmaps'), u2);
  t.equal(same.metadata.resourceVersion, u2.metadata.resourceVersion);
  await t.rejects(client.get(core('configmaps'), 'zzz', 'default'), { code: 404, message: 'configmaps "zzz" not found' });
  try { await client.create<KubeObject>(core('configmaps'), cm('Bad_Name'), 'default'); t.fail('no error'); } catch (e) {
    t.equal(code(e), 422);
    t.match((e as ApiError).message, /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"/);
  }
  const frozen = await client.create<KubeObject>(core('configmaps'), { ...cm('frozen'), immutable: true }, 'default');
  await t.rejects(client.update<KubeObject>(core('configmaps'), { ...frozen, data: { a: 'changed' } }), { code: 422, message: /immutable/ });
  await t.rejects(client.update<KubeObject>(core('configmaps'), { ...frozen, immutable: false }), { code: 422 });
  const gen = await client.create<KubeObject>(core('configmaps'), { metadata: { generateName: 'g-' } }, 'default');
  t.match(gen.metadata.name, /^g-[a-z0-9]{5}$/);
});

t.test('status isolation and namespaces lifecycle', async (t) => {
  const { client } = setup(t);
  const n = await client.create<KubeObject>(core('namespaces'), ns('a'));
  t.equal(n.status.phase, 'Active');
  t.same(n.spec.finalizers, ['kubernetes']);
  const p = await client.create<KubeObject>(core('pods'), pod('p'), 'a');
  t.equal(p.status.phase, 'Pending');
  t.equal(p.spec.restartPolicy, 'Always');
  t.equal(p.spec.containers[0].imagePullPolicy, 'Always');
  t.equal(p.spec.tolerations.length, 2);
  // status on main update is ignored
  const p2 = await client.update<KubeObject>(core('pods'), { ...p, status: { phase: 'Running' }, metadata: { ...p.metadata, labels: { x: 'y' } } });
  t.equal(p2.status.phase, 'Pending');
  t.equal(p2.metadata.labels!.x, 'y');
  t.equal(p2.metadata.generation, undefined, 'pods have no generation in 1.32');
  // spec on status update is ignored
  const p3 = await client.update<KubeObject>(core('pods'), { ...p2, spec: { ...p2.spec, nodeName: 'n1' }, status: { phase: 'Running' } }, 'status');
  t.equal(p3.status.phase, 'Running');
  t.notOk(p3.spec.nodeName);
  // pod spec is immutable except images
  await t.rejects(client.update<KubeObject>(core('pods'), { ...p3, spec: { ...p3.spec, restartPolicy: 'Never' } }), { code: 422 });
  // namespace deletion → Terminating, finalize removes it
  await client.delete(core('namespaces'), 'a');
  const term = await client.get(core('namespaces'), 'a');
  t.equal(term.status.phase, 'Terminating');
  t.ok(term.metadata.deletionTimestamp);
  await t.rejects(client.create<KubeObject>(core('configmaps'), cm('late'), 'a'), { code: 403 });
  await client.update<KubeObject>(core('namespaces'), { ...term, spec: { finalizers: [] } }, 'finalize');
  await t.rejects(client.get(core('namespaces'), 'a'), { code: 404 });
});

t.test('graceful pod deletion, finalizers, binding, eviction', async (t) => {
  const { client } = setup(t);
  await client.create<KubeObject>(core('namespaces'), ns('d'));
  await client.create<KubeObject>(core('pods'), pod('unbound'), 'd');
  await client.delete(core('pods'), 'unbound', 'd');
  await t.rejects(client.get(core('pods'), 'unbound', 'd'), { code: 404 });
  await client.create<KubeObject>(core('pods'), pod('b'), 'd');
  await client.createSubresource(core('pods'), 'b', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b' }, target: { kind: 'Node', name: 'n1' } }, 'd');
  const bound = await client.get(core('pods'), 'b', 'd');
  t.equal(bound.spec.nodeName, 'n1');
  t.equal(bound.status.conditions[0].type, 'PodScheduled');
  await t.rejects(client.createSubresource(core('pods'), 'b', 'binding', { metadata: {}, target: { name: 'n2' } }, 'd'), { code: 409 });
  await client.delete(core('pods'), 'b', 'd');
  const terminating = await client.get(core('pods'), 'b', 'd');
  t.equal(terminating.metadata.deletionGracePeriodSeconds, 30);
  t.equal(terminating.metadata.deletionTimestamp, '2026-01-01T00:00:30Z');
  await client.delete(core('pods'), 'b', 'd', { gracePeriodSeconds: 0 });
  await t.rejects(client.get(core('pods'), 'b', 'd'), { code: 404 });
  // finalizers hold an object until removed
  await client.create<KubeObject>(core('configmaps'), { ...cm('f'), metadata: { name: 'f', finalizers: ['x/y'] } }, 'd');
  await client.delete(core('configmaps'), 'f', 'd');
  const held = await client.get(core('configmaps'), 'f', 'd');
  t.ok(held.metadata.deletionTimestamp);
  await client.update<KubeObject>(core('configmaps'), { ...held, metadata: { ...held.metadata, finalizers: [] } });
  await t.rejects(client.get(core('configmaps'), 'f', 'd'), { code: 404 });
  // eviction without budgets deletes
  await client.create<KubeObject>(core('pods'), pod('e'), 'd');
  await client.createSubresource(core('pods'), 'e', 'eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'e', namespace: 'd' } }, 'd');
  await t.rejects(client.get(core('pods'), 'e', 'd'), { code: 404 });
});

t.test('list: selectors, paging, compaction', async (t) => {
  const { client, registry, store } = setup(t);
  await client.create<KubeObject>(core('namespaces'), ns('l'));
  for (let i = 0; i < 7; i++) await client.create<KubeObject>(core('configmaps'), cm(`c${i}`, { i: String(i), even: String(i % 2 === 0) }), 'l');
  const s = registry.catalog.lookup('', 'v1', 'configmaps')!;
  t.equal((await list(registry, s, { labelSelector: 'even=true' })).items.length, 4);
  t.equal((await list(registry, s, { labelSelector: 'i in (1,2,9),even!=true' })).items.length, 1);
  t.equal((await list(registry, s, { labelSelector: '!even' })).items.length, 0);
  t.equal((await list(registry, s, { fieldSelector: 'metadata.name=c3' })).items[0]!.metadata.name, 'c3');
  await t.rejects(list(registry, s, { fieldSelector: 'spec.bogus=1' }), { code: 400 });
  const p1 = await list(registry, s, { namespace: 'l', limit: 3 });
  t.equal(p1.items.length, 3);
  t.equal(p1.metadata.remainingItemCount, 4);
  await client.delete(core('configmaps'), 'c4', 'l'); // pages stay consistent at the first revision
  const p2 = await list(registry, s, { namespace: 'l', limit: 3, continue: p1.metadata.continue });
  t.same(p2.items.map((x) => x.metadata.name), ['c3', 'c4', 'c5']);
  const p3 = await list(registry, s, { namespace: 'l', limit: 3, continue: p2.metadata.continue });
  t.same(p3.items.map((x) => x.metadata.name), ['c6']);
  t.notOk(p3.metadata.continue);
  const sel = await list(registry, s, { labelSelector: 'even=true', limit: 2 });
  t.equal(sel.items.length, 2);
  t.ok(sel.metadata.continue);
  await store.compact(store.currentRevision());
  await t.rejects(list(registry, s, { namespace: 'l', limit: 3, continue: p1.metadata.continue }), { code: 410, reason: 'Expired' });
});

t.test('watch: initial events, transitions, bookmarks, timeout, 410', async (t) => {
  const { client, registry, store } = setup(t);
  await client.create<KubeObject>(core('namespaces'), ns('w'));
  await client.create<KubeObject>(core('configmaps'), cm('pre', { a: '1' }), 'w');
  const s = registry.catalog.lookup('', 'v1', 'configmaps')!;
  const w = await watch(registry, s, { namespace: 'w', labelSelector: 'a=1' });
  const it = w[Symbol.asyncIterator]();
  t.equal((await it.next()).value.type, 'ADDED');
  const obj = await client.create<KubeObject>(core('configmaps'), cm('x', { a: '1' }), 'w');
  t.match((await it.next()).value, { type: 'ADDED', object: { metadata: { name: 'x' } } });
  const moved = await client.update<KubeObject>(core('configmaps'), { ...obj, metadata: { ...obj.metadata, labels: { a: '2' } } });
  t.match((await it.next()).value, { type: 'DELETED', object: { metadata: { name: 'x', resourceVersion: moved.metadata.resourceVersion } } });
  await client.update<KubeObject>(core('configmaps'), { ...moved, metadata: { ...moved.metadata, labels: { a: '1' } } });
  t.match((await it.next()).value, { type: 'ADDED' });
  await client.delete(core('configmaps'), 'x', 'w');
  t.match((await it.next()).value, { type: 'DELETED' });
  w.close();
  t.equal((await it.next()).done, true);

  const rv = store.currentRevision();
  const w2 = await watch(registry, s, { resourceVersion: String(rv), allowWatchBookmarks: true, timeoutSeconds: 10 });
  const it2 = w2[Symbol.asyncIterator]();
  const next = it2.next();
  // the FakeClock drives bookmark and timeout timers
  registry.clock instanceof FakeClock && (registry.clock as FakeClock).advance(60);
  t.match((await next).value, { type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion: String(rv) } } });
  (registry.clock as FakeClock).advance(10_000);
  for (;;) { const r = await it2.next(); if (r.done) break; }
  t.pass('timeout ended the watch');

  await store.compact(store.currentRevision());
  const w3 = await watch(registry, s, { resourceVersion: '1' });
  const r3 = await w3[Symbol.asyncIterator]().next();
  t.match(r3.value, { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
});

t.test('services allocate ClusterIPs and NodePorts; scale', async (t) => {
  const { client } = setup(t);
  await client.create<KubeObject>(core('namespaces'), ns('s'));
  const a = await client.create<KubeObject>(core('services'), { metadata: { name: 'a' }, spec: { ports: [{ port: 80 }], type: 'NodePort' } }, 's');
  t.match(a.spec.clusterIP, /^10\.43\./);
  t.ok(a.spec.ports[0].nodePort >= 30000 && a.spec.ports[0].nodePort <= 32767);
  t.equal(a.spec.ports[0].targetPort, 80);
  await t.rejects(client.create<KubeObject>(core('services'), { metadata: { name: 'b' }, spec: { ports: [{ port: 80 }], clusterIP: a.spec.clusterIP } }, 's'), { code: 422, message: /already allocated/ });
  await client.delete(core('services'), 'a', 's');
  const b = await client.create<KubeObject>(core('services'), { metadata: { name: 'b' }, spec: { ports: [{ port: 80 }], clusterIP: a.spec.clusterIP } }, 's');
  t.equal(b.spec.clusterIP, a.spec.clusterIP);
  const rc = await client.create<KubeObject>(core('replicationcontrollers'), { metadata: { name: 'rc' }, spec: { template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } } } }, 's');
  t.equal(rc.spec.replicas, 1);
  const scaled = await client.patch(core('replicationcontrollers'), 'rc', 'merge', { spec: { replicas: 3 } }, { namespace: 's', subresource: 'scale' });
  t.match(scaled, { kind: 'Scale', spec: { replicas: 3 }, status: { selector: 'app=x' } });
  t.equal((await client.get(core('replicationcontrollers'), 'rc', 's')).spec.replicas, 3);
  await t.rejects(client.get(apps('nothing'), 'x'), { code: 404 });
});

t.test('events live on a shared lease; field selectors on involvedObject', async (t) => {
  const { client, store } = setup(t);
  await client.create<KubeObject>(core('namespaces'), ns('ev'));
  const ev = (name: string, pod: string) => ({ metadata: { name }, involvedObject: { kind: 'Pod', name: pod, namespace: 'ev', uid: 'u-' + pod }, reason: 'Started', message: 'm', type: 'Normal' });
  await client.create<KubeObject>(core('events'), ev('e1', 'a'), 'ev');
  await client.create<KubeObject>(core('events'), ev('e2', 'b'), 'ev');
  const k1 = (await store.get('/registry/events/ev/e1')).kv!;
  const k2 = (await store.get('/registry/events/ev/e2')).kv!;
  t.ok(k1.lease > 0, 'event has a lease');
  t.equal(k1.lease, k2.lease, 'events share one lease');
  const e1 = await client.get<KubeObject>(core('events'), 'e1', 'ev');
  await client.update<KubeObject>(core('events'), { ...e1, count: 2 });
  t.equal((await store.get('/registry/events/ev/e1')).kv!.lease, k1.lease, 'update keeps the lease');
  const sel = await client.list(core('events'), { namespace: 'ev', fieldSelector: 'involvedObject.name=b,involvedObject.namespace=ev,involvedObject.uid=u-b' });
  t.same(sel.items.map((e) => e.metadata.name), ['e2']);
  await store.revokeLease(k1.lease);
  t.equal((await client.list(core('events'), { namespace: 'ev' })).items.length, 0, 'expired with the lease');
});

t.test('server-side apply: create, merge, removal of what the manager dropped, no-op re-apply', async (t) => {
  const { client } = setup(t);
  await client.create<KubeObject>(core('namespaces'), ns('ssa'));
  const cfg = (labels: Record<string, string>, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels }, data });
  const opts = { namespace: 'ssa', fieldManager: 'kubectl' };
  const first = await client.patch<KubeObject>(core('configmaps'), 'a', 'apply', cfg({ a: '1', b: '2' }, { x: '1', y: '2' }), opts);
  t.same(first.data, { x: '1', y: '2' });
  const again = await client.patch<KubeObject>(core('configmaps'), 'a', 'apply', cfg({ a: '1', b: '2' }, { x: '1', y: '2' }), opts);
  t.equal(again.metadata.resourceVersion, first.metadata.resourceVersion, 'same manifest: no write');
  await client.patch(core('configmaps'), 'a', 'merge', { metadata: { labels: { other: 'kept' } } }, { namespace: 'ssa' });
  const cut = await client.patch<KubeObject>(core('configmaps'), 'a', 'apply', cfg({ a: '1' }, { x: '1' }), opts);
  t.same(cut.metadata.labels, { a: '1', other: 'kept' });
  t.same(cut.data, { x: '1' });
  const byOther = await client.patch<KubeObject>(core('configmaps'), 'a', 'apply', cfg({ z: '9' }, {}), { ...opts, fieldManager: 'tool' });
  t.same(byOther.metadata.labels, { a: '1', other: 'kept', z: '9' }, 'another manager removes nothing it did not apply');
});
