// Controller runtime tests in one file (one test process): work queue and rate limiters, controller helper,
// informer (relist on 410 Gone, indexes, resync, frozen cache), shared factory, leader election.
import t from 'tap';
import { ApiError, coordination, core, type ClientWatch, type ClientWatchEvent, type KubeObject, type ListQuery, type ResourceRef, type WatchQuery } from '../client/types.ts';
import { FakeClient } from '../client/fake.ts';
import { FakeClock } from '../clock.ts';
import { byNodeName, byOwnerUid } from './cache.ts';
import { Controller } from './controller.ts';
import { SharedInformerFactory } from './factory.ts';
import { Informer } from './informer.ts';
import { LeaderElector } from './leader-election.ts';
import { ExponentialBackoff, TokenBucket } from './rate-limiter.ts';
import { WorkQueue } from './work-queue.ts';


t.test('dirty set dedups; processing key is not handed out twice', async (t) => {
  const q = new WorkQueue<string>({ clock: new FakeClock() });
  q.add('a'); q.add('a'); q.add('b');
  t.equal(q.length, 2);
  const k = await q.get();
  t.equal(k, 'a');
  q.add('a'); // while processing: re-queued only after done
  t.equal(await q.get(), 'b');
  t.equal(q.length, 0);
  let got: string | undefined;
  const p = q.get().then((x) => (got = x));
  await new Promise((r) => setImmediate(r));
  t.equal(got, undefined);
  q.done('a');
  await p;
  t.equal(got, 'a');
  q.done('b');
  q.done('a');
  q.shutDown();
  t.equal(await q.get(), undefined);
});

t.test('delayed adds run on the clock; earlier wins', async (t) => {
  const clock = new FakeClock();
  const q = new WorkQueue<string>({ clock });
  q.addAfter('x', 1000);
  q.addAfter('x', 100);
  clock.advance(99);
  t.equal(q.length, 0);
  clock.advance(1);
  t.equal(q.length, 1);
  clock.advance(2000);
  t.equal(q.length, 1);
});

t.test('exponential backoff 5ms doubling capped at 1000s; forget resets', async (t) => {
  const b = new ExponentialBackoff<string>();
  t.same([b.when('k'), b.when('k'), b.when('k'), b.when('k')], [5, 10, 20, 40]);
  for (let i = 0; i < 40; i++) b.when('k');
  t.equal(b.when('k'), 1_000_000);
  t.equal(b.when('other'), 5);
  b.forget('k');
  t.equal(b.when('k'), 5);
});

t.test('token bucket limits overall rate', async (t) => {
  const clock = new FakeClock();
  const tb = new TokenBucket<string>(10, 2, clock);
  t.equal(tb.when('a'), 0);
  t.equal(tb.when('b'), 0);
  t.equal(tb.when('c'), 100);
  clock.advance(1000);
  t.equal(tb.when('d'), 0);
});

t.test('controller requeues a failing key with backoff and never runs one key concurrently', async (t) => {
  const clock = new FakeClock();
  let running = 0;
  let maxRunning = 0;
  let calls = 0;
  const c = new Controller({
    name: 'test', clock, workers: 3,
    reconcile: async () => {
      running++; maxRunning = Math.max(maxRunning, running); calls++;
      await new Promise((r) => setImmediate(r));
      running--;
      if (calls < 3) throw new Error('boom');
    },
  });
  const ac = new AbortController();
  const done = c.run(ac.signal);
  c.enqueue('ns/a'); c.enqueue('ns/a');
  for (let i = 0; i < 50 && calls < 1; i++) await new Promise((r) => setImmediate(r));
  c.enqueue('ns/a');
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  t.equal(maxRunning, 1);
  t.ok(calls >= 1);
  // failures were requeued with backoff: advancing the clock brings them back
  for (let i = 0; i < 10 && calls < 3; i++) {
    clock.advance(1000);
    for (let j = 0; j < 20; j++) await new Promise((r) => setImmediate(r));
  }
  t.equal(calls, 3);
  t.equal(c.queue.numRequeues('ns/a'), 0, 'success forgets failures');
  ac.abort();
  await done;
});


const pod = (name: string, rv: string, extra: Partial<KubeObject> = {}): KubeObject => ({ metadata: { name, namespace: 'ns', uid: name, resourceVersion: rv }, ...extra });

/** A list/watch source that scripts its watches. */
class ScriptedSource {
  lists: KubeObject[][] = [];
  watches: ClientWatchEvent[][] = [];
  watchQueries: WatchQuery[] = [];
  listCalls = 0;
  async list<T extends KubeObject>(_ref: ResourceRef, _q?: ListQuery) {
    const items = (this.lists[Math.min(this.listCalls, this.lists.length - 1)] ?? []) as T[];
    this.listCalls++;
    return { metadata: { resourceVersion: String(10 * this.listCalls) }, items: structuredClone(items) };
  }
  async watch<T extends KubeObject>(_ref: ResourceRef, q: WatchQuery = {}): Promise<ClientWatch<T>> {
    this.watchQueries.push(q);
    const evs = this.watches.shift();
    if (!evs) throw new ApiError({ code: 410, reason: 'Expired', message: 'too old' });
    let closed = false;
    let wake: (() => void) | undefined;
    const last = this.watches.length === 0;
    return {
      close: () => { closed = true; wake?.(); },
      async *[Symbol.asyncIterator]() {
        for (const e of structuredClone(evs)) yield e as ClientWatchEvent<T>;
        if (last) while (!closed) await new Promise<void>((r) => (wake = r));
      },
    };
  }
}

const tick = async (n = 20) => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };

t.test('informer lists, watches, relists on 410 Gone and reports the diff', async (t) => {
  const src = new ScriptedSource();
  src.lists = [[pod('a', '1'), pod('b', '2')], [pod('a', '1'), pod('c', '12')]];
  src.watches = [
    [{ type: 'MODIFIED', object: pod('a', '5', { spec: { nodeName: 'n1' } }) }, { type: 'ERROR', object: { metadata: {}, code: 410 } as KubeObject }],
    [{ type: 'ADDED', object: pod('d', '13') }, { type: 'DELETED', object: pod('d', '14') }],
    [],
  ];
  const seen: string[] = [];
  const inf = new Informer({ client: src, ref: core('pods'), clock: new FakeClock() });
  inf.addIndexer('node', byNodeName);
  inf.addHandler({ add: (o) => seen.push(`add ${o.metadata.name}`), update: (a, b) => seen.push(`update ${b.metadata.name} ${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`), delete: (o) => seen.push(`delete ${o.metadata.name}`) });
  const ac = new AbortController();
  const run = inf.run(ac.signal);
  await inf.waitForSync();
  for (let i = 0; i < 200 && seen.length < 8; i++) await tick(1);
  t.same(seen, ['add a', 'add b', 'update a 1->5', 'update a 5->1', 'add c', 'delete b', 'add d', 'delete d']);
  t.equal(src.listCalls, 2);
  t.equal(src.watchQueries[1]!.resourceVersion, '20', 'watch resumes from the relist RV');
  t.same(inf.lister.list('ns').map((o) => o.metadata.name).sort(), ['a', 'c']);
  t.ok(Object.isFrozen(inf.lister.get('a', 'ns')!.metadata), 'cached objects are frozen');
  t.throws(() => { (inf.lister.get('a', 'ns')!.metadata as { name: string }).name = 'x'; });
  ac.abort();
  await run;
});

t.test('informer over FakeClient with indexes, resync and shared factory', async (t) => {
  const c = new FakeClient();
  c.seed(core('pods'), { metadata: { name: 'p1', namespace: 'a', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-1' }] }, spec: { nodeName: 'n1' } });
  const clock = new FakeClock();
  const f = new SharedInformerFactory({ client: c, clock, resyncMs: 30_000 });
  const inf = f.informer(core('pods'));
  t.equal(f.informer(core('pods')), inf, 'shared');
  inf.addIndexer('owner', byOwnerUid).addIndexer('node', byNodeName);
  let updates = 0;
  inf.addHandler({ update: () => updates++ });
  const ac = new AbortController();
  f.start(ac.signal);
  await f.waitForSync();
  t.equal(inf.lister.byIndex('owner', 'rs-1').length, 1);
  t.equal(inf.lister.byIndex('node', 'n1').length, 1);
  await c.create(core('pods'), { metadata: { name: 'p2', namespace: 'b', labels: { app: 'x' }, managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }] }, spec: { nodeName: 'n1' } });
  for (let i = 0; i < 100 && inf.lister.byIndex('node', 'n1').length < 2; i++) await tick(1);
  t.equal(inf.lister.byIndex('node', 'n1').length, 2);
  t.equal(inf.lister.get('p2', 'b')!.metadata.managedFields, undefined, 'managedFields are not kept in the cache');
  t.same(inf.lister.get('p2', 'b')!.metadata.labels, { app: 'x' }, 'the rest of the metadata is');
  t.same(inf.lister.list(undefined, { app: 'x' }).map((p) => p.metadata.name), ['p2']);
  t.same(inf.lister.list(undefined, { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }).map((p) => p.metadata.name), ['p1']);
  clock.advance(30_000);
  t.equal(updates, 2, 'resync replays every object');
  ac.abort();
  await f.stopped();
});

t.test('a resource the server does not serve counts as synced and empty', async (t) => {
  const src = {
    list: async () => { throw new ApiError({ code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' }); },
    watch: async () => { throw new Error('unreachable'); },
  };
  const inf = new Informer({ client: src as never, ref: core('widgets'), clock: new FakeClock() });
  const ac = new AbortController();
  const run = inf.run(ac.signal);
  await inf.waitForSync();
  t.equal(inf.lister.list().length, 0);
  ac.abort();
  await run;
});


const leases = coordination('leases');

t.test('acquire, renew sparingly, block a second candidate, take over after expiry, release on stop', async (t) => {
  const client = new FakeClient();
  const clock = new FakeClock();
  const a = new LeaderElector({ client, clock, identity: 'a' });
  const b = new LeaderElector({ client, clock, identity: 'b' });
  t.equal(await a.tryAcquireOrRenew(), true);
  t.equal(await b.tryAcquireOrRenew(), false, 'held by a');
  clock.advance(59_000);
  t.equal(await b.tryAcquireOrRenew(), false, 'not yet expired on b\'s clock');
  t.equal(await a.tryAcquireOrRenew(), true, 'renew');
  clock.advance(61_000);
  t.equal(await b.tryAcquireOrRenew(), false, 'a renewed; b saw a new renewTime only now');
  clock.advance(61_000);
  t.equal(await b.tryAcquireOrRenew(), true, 'expired → b takes over');
  const lease = (await client.get(leases, 'tsk-controllers', 'kube-system')).spec;
  t.equal(lease.holderIdentity, 'b');
  t.equal(lease.leaseTransitions, 1);
  t.equal(await a.tryAcquireOrRenew(), false);
});

/** Candidate 'a' running on a FakeClient and a FakeClock, once it leads: leading is the leader work's signal. */
async function runLeader() {
  const client = new FakeClient();
  const clock = new FakeClock();
  const a = new LeaderElector({ client, clock, identity: 'a' });
  const ac = new AbortController();
  let leading: AbortSignal | undefined;
  const run = a.run(ac.signal, (s) => { leading = s; });
  for (let i = 0; i < 100 && !leading; i++) await new Promise((r) => setImmediate(r));
  return { client, clock, a, ac, run, leading };
}

t.test('run: leads, renews every 40 s (one write each), releases on stop', async (t) => {
  const { client, clock, ac, run, leading } = await runLeader();
  t.ok(leading && !leading.aborted);
  const writes0 = client.actions.length;
  for (let i = 0; i < 3; i++) {
    clock.advance(40_000);
    for (let j = 0; j < 20; j++) await new Promise((r) => setImmediate(r));
  }
  t.equal(client.actions.length - writes0, 3, 'three renewals in 120 s');
  ac.abort();
  await run;
  t.ok(leading!.aborted);
  const lease = (await client.get(leases, 'tsk-controllers', 'kube-system')).spec;
  t.notOk(lease.holderIdentity, 'released');
  const b = new LeaderElector({ client, clock, identity: 'b' });
  t.equal(await b.tryAcquireOrRenew(), true, 'handover is immediate');
});

t.test('leader election: leadership taken over elsewhere stops the leader work', async (t) => {
  const { client, clock, a, ac, run, leading } = await runLeader();
  const lease = await client.get(coordination('leases'), 'tsk-controllers', 'kube-system');
  lease.spec.holderIdentity = 'intruder';
  await client.update(coordination('leases'), lease);
  clock.advance(40_000);
  for (let i = 0; i < 100 && !leading!.aborted; i++) await new Promise((r) => setImmediate(r));
  t.ok(leading!.aborted, 'leader work stopped');
  t.notOk(a.isLeader);
  ac.abort();
  await run;
  t.equal((await client.get(coordination('leases'), 'tsk-controllers', 'kube-system')).spec.holderIdentity, 'intruder', 'a stopped candidate does not release a lease it no longer holds');
});
