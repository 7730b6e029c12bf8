import t from 'tap';
import { ApiError, core, type ClientWatch, type ClientWatchEvent, type KubeObject, type ListQuery, type ResourceRef, type WatchQuery } from '../client/types.ts';
import { FakeClient } from '../client/fake.ts';
import { FakeClock } from '../clock.ts';
import { Informer } from './informer.ts';
import { SharedInformerFactory } from './factory.ts';
import { byNodeName, byOwnerUid } from './cache.ts';

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
  await c.create(core('pods'), { metadata: { name: 'p2', namespace: 'b', labels: { app: 'x' } }, spec: { nodeName: 'n1' } });
  for (let i = 0; i < 100 && inf.lister.byIndex('node', 'n1').length < 2; i++) await tick(1);
  t.equal(inf.lister.byIndex('node', 'n1').length, 2);
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
