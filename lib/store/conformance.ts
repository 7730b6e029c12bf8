// The shared Store conformance suite: every implementation runs these cases (memory.test.ts, sqlite.test.ts).
import type { Test } from 'tap';
import { FakeClock } from '../clock.ts';
import {
  AlreadyExistsError, CompactedError, ConflictError, FutureRevisionError, LeaseNotFoundError, NotFoundError,
  type Store, type Watch, type WatchEvent, type WatchMessage,
} from './types.ts';
import { pollUntil } from './test-fixture.ts';

export interface FactoryOptions {
  clock: FakeClock;
  watchBuffer?: number;
}

export type StoreFactory = (opts: FactoryOptions) => Promise<Store>;

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);
const DEADLINE_MS = 30_000;

/** Reads a watch with a deadline per message, so a missing event fails the test instead of hanging it. */
export class WatchReader {
  #it: AsyncIterator<WatchMessage>;
  #pending: Promise<IteratorResult<WatchMessage>> | undefined;
  constructor(w: Watch) {
    this.#it = w[Symbol.asyncIterator]();
  }
  async next(timeoutMs = DEADLINE_MS): Promise<WatchMessage | undefined> {
    this.#pending ??= this.#it.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const res = await Promise.race([this.#pending, timeout]);
    clearTimeout(timer);
    if (res === 'timeout') return undefined;
    this.#pending = undefined;
    return res.done ? undefined : res.value;
  }
  /** Collects n events (progress messages are skipped). */
  async events(n: number, timeoutMs = DEADLINE_MS): Promise<WatchEvent[]> {
    const out: WatchEvent[] = [];
    const until = Date.now() + timeoutMs;
    while (out.length < n) {
      const m = await this.next(Math.max(1, until - Date.now()));
      if (!m) break;
      if ('events' in m) out.push(...m.events);
    }
    return out;
  }
}

async function rejects<T>(t: Test, p: Promise<unknown>, cls: new (...a: never[]) => T, msg: string): Promise<T | undefined> {
  try {
    await p;
    t.fail(`${msg}: expected ${cls.name}`);
  } catch (err) {
    t.ok(err instanceof cls, `${msg}: ${cls.name}`);
    if (err instanceof cls) return err;
  }
  return undefined;
}

export function storeConformance(t: Test, factory: StoreFactory): void {
  const open = async (t: Test, opts: Partial<FactoryOptions> = {}) => {
    const clock = opts.clock ?? new FakeClock();
    const s = await factory({ clock, ...opts });
    t.teardown(() => s.close());
    return { s, clock };
  };

  t.test('create, get, AlreadyExists', async (t) => {
    const { s } = await open(t);
    const r0 = s.currentRevision();
    const a = await s.create('/a', enc('1'));
    t.match(a, { key: '/a', modRevision: r0 + 1, createRevision: r0 + 1, version: 1, lease: 0 });
    t.equal(dec(a.value), '1');
    await rejects(t, s.create('/a', enc('2')), AlreadyExistsError, 'second create');
    t.equal(s.currentRevision(), r0 + 1, 'failed create does not use a revision');
    const g = await s.get('/a');
    t.equal(dec(g.kv?.value), '1');
    t.equal(g.revision, r0 + 1);
    const missing = await s.get('/nope');
    t.equal(missing.kv, undefined);
    t.equal(missing.revision, r0 + 1, 'empty get carries the current revision');
  });

  t.test('update with expected revision, conflicts, unconditional', async (t) => {
    const { s } = await open(t);
    const a = await s.create('/u', enc('1'));
    const b = await s.update('/u', enc('2'), a.modRevision);
    t.match(b, { modRevision: a.modRevision + 1, createRevision: a.modRevision, version: 2 });
    const c = await rejects(t, s.update('/u', enc('3'), a.modRevision), ConflictError, 'stale update');
    t.equal(c?.current?.modRevision, b.modRevision, 'conflict carries the current value');
    t.equal(dec(c?.current?.value), '2');
    const d = await s.update('/u', enc('4'), 0);
    t.match(d, { version: 3, createRevision: a.modRevision });
    await rejects(t, s.update('/missing', enc('x'), 0), NotFoundError, 'unconditional update of a missing key');
    const e = await rejects(t, s.update('/missing', enc('x'), 5), ConflictError, 'conditional update of a missing key');
    t.equal(e?.current, undefined);
  });

  t.test('delete with expected revision, conflicts, unconditional, recreate', async (t) => {
    const { s } = await open(t);
    const a = await s.create('/d', enc('1'));
    const b = await s.update('/d', enc('2'), 0);
    const c = await rejects(t, s.delete('/d', a.modRevision), ConflictError, 'stale delete');
    t.equal(c?.current?.modRevision, b.modRevision);
    const del = await s.delete('/d', b.modRevision);
    t.equal(dec(del.value), '2', 'delete returns the deleted value');
    t.equal(del.modRevision, b.modRevision + 1, 'with the tombstone revision');
    t.equal((await s.get('/d')).kv, undefined);
    await rejects(t, s.delete('/d', 0), NotFoundError, 'delete of a deleted key');
    const again = await s.create('/d', enc('3'));
    t.match(again, { version: 1, createRevision: again.modRevision });
    await s.delete('/d', 0);
    t.equal((await s.count('/d')).count, 0);
  });

  t.test('get at a revision', async (t) => {
    const { s } = await open(t);
    const before = await s.create('/g0', enc('0'));
    const a = await s.create('/g', enc('1'));
    const b = await s.update('/g', enc('2'), 0);
    await s.delete('/g', 0);
    t.equal(dec((await s.get('/g', { revision: a.modRevision })).kv?.value), '1');
    t.equal((await s.get('/g', { revision: a.modRevision })).revision, a.modRevision);
    t.equal(dec((await s.get('/g', { revision: b.modRevision })).kv?.value), '2');
    t.equal((await s.get('/g', { revision: b.modRevision + 1 })).kv, undefined);
    t.equal((await s.get('/g', { revision: before.modRevision })).kv, undefined, 'absent before its create');
    await rejects(t, s.get('/g', { revision: s.currentRevision() + 10 }), FutureRevisionError, 'future revision');
  });

  t.test('list with limit, startKey and a pinned revision', async (t) => {
    const { s } = await open(t);
    for (let i = 0; i < 10; i++) await s.create(`/p/k${i}`, enc(`v${i}`));
    await s.create('/q/other', enc('x'));
    await s.create('/p', enc('not under /p/'));
    const first = await s.list('/p/', { limit: 3 });
    t.same(first.items.map((i) => i.key), ['/p/k0', '/p/k1', '/p/k2']);
    t.equal(first.count, 10);
    t.equal(first.more, true);
    t.equal(first.revision, s.currentRevision());
    // Changes after the first page must not show in later pages.
    await s.delete('/p/k5', 0);
    await s.update('/p/k6', enc('changed'), 0);
    await s.create('/p/k7a', enc('new'));
    const seen = first.items.map((i) => `${i.key}=${dec(i.value)}`);
    let page = first;
    let pages = 1;
    while (page.more && pages < 20) {
      const next = `${page.items[page.items.length - 1]!.key}\x00`;
      const remaining = 10 - seen.length;
      page = await s.list('/p/', { limit: 3, startKey: next, revision: first.revision });
      t.equal(page.revision, first.revision, 'later pages read at the first page revision');
      t.equal(page.count, remaining, 'count is the keys left from startKey at that revision');
      t.equal(page.more, page.items.length < remaining);
      seen.push(...page.items.map((i) => `${i.key}=${dec(i.value)}`));
      pages++;
    }
    t.same(seen, Array.from({ length: 10 }, (_, i) => `/p/k${i}=v${i}`));
    const now = await s.list('/p/');
    t.same(now.items.map((i) => i.key), ['/p/k0', '/p/k1', '/p/k2', '/p/k3', '/p/k4', '/p/k6', '/p/k7', '/p/k7a', '/p/k8', '/p/k9']);
    t.equal(now.count, 10);
    t.equal(now.more, false);
    t.equal(dec(now.items[5]!.value), 'changed');
    t.equal((await s.count('/p/')).count, 10);
    const exact = await s.list('/p/', { limit: 10 });
    t.equal(exact.more, false, 'limit equal to the count has no more');
  });

  t.test('watch ordering, prefix filter and prevKv', async (t) => {
    const { s } = await open(t);
    const w = s.watch('/w/', 0);
    t.teardown(() => w.close());
    const r = new WatchReader(w);
    const a = await s.create('/w/a', enc('1'));
    await s.create('/x/ignored', enc('1'));
    const b = await s.update('/w/a', enc('2'), a.modRevision);
    const c = await s.delete('/w/a', 0);
    const ev = await r.events(3);
    t.same(ev.map((e) => [e.type, e.kv.key, e.kv.modRevision]), [
      ['put', '/w/a', a.modRevision], ['put', '/w/a', b.modRevision], ['delete', '/w/a', c.modRevision],
    ]);
    t.equal(ev[0]!.prevKv, undefined, 'a create has no previous value');
    t.equal(dec(ev[1]!.prevKv?.value), '1');
    t.equal(ev[1]!.prevKv?.modRevision, a.modRevision);
    t.equal(dec(ev[2]!.prevKv?.value), '2', 'a delete carries the deleted value');
    t.equal(ev[2]!.prevKv?.modRevision, b.modRevision);
  });

  t.test('watch from an old revision replays history, then goes live', async (t) => {
    const { s } = await open(t);
    const a = await s.create('/h/a', enc('1'));
    await s.update('/h/a', enc('2'), 0);
    await s.create('/h/b', enc('1'));
    await s.delete('/h/a', 0);
    const w = s.watch('/h/', a.modRevision);
    t.teardown(() => w.close());
    const r = new WatchReader(w);
    const c = await s.create('/h/c', enc('1'));
    const ev = await r.events(4);
    t.same(ev.map((e) => `${e.type} ${e.kv.key} ${e.kv.modRevision}`), [
      `put /h/a ${a.modRevision + 1}`, `put /h/b ${a.modRevision + 2}`, `delete /h/a ${a.modRevision + 3}`, `put /h/c ${c.modRevision}`,
    ]);
    t.equal(dec(ev[0]!.prevKv?.value), '1');
    t.equal(dec(ev[2]!.prevKv?.value), '2');
  });

  t.test('progress notifications carry the current revision', async (t) => {
    const { s } = await open(t);
    const w = s.watch('/pr/', 0, { progressNotify: true });
    t.teardown(() => w.close());
    const r = new WatchReader(w);
    await s.create('/pr/a', enc('1'));
    await s.create('/other', enc('1'));
    t.equal((await r.events(1)).length, 1);
    t.ok(s.progress, 'the store can request progress');
    s.progress?.();
    const m = await r.next();
    t.ok(m && 'progress' in m, 'a progress message');
    t.equal(m?.revision, s.currentRevision());
    t.ok((m?.revision ?? 0) > 0, 'never revision 0');
  });

  t.test('compaction', async (t) => {
    const { s } = await open(t);
    const a = await s.create('/c/a', enc('1'));
    const gone = await s.create('/c/gone', enc('1'));
    await s.delete('/c/gone', gone.modRevision);
    const mid = s.currentRevision();
    const b = await s.update('/c/a', enc('2'), 0);
    await s.compact(mid);
    t.equal(s.compactRevision(), mid);
    await rejects(t, s.get('/c/a', { revision: a.modRevision }), CompactedError, 'get below the compaction point');
    await rejects(t, s.list('/c/', { revision: a.modRevision }), CompactedError, 'list below the compaction point');
    try {
      s.watch('/c/', a.modRevision).close();
      t.fail('watch below the compaction point must fail');
    } catch (err) {
      t.ok(err instanceof CompactedError, 'watch below the compaction point: Compacted');
      t.equal((err as CompactedError).compactRevision, mid);
    }
    t.equal(dec((await s.get('/c/a', { revision: mid })).kv?.value), '1', 'the value at the compaction point survives');
    t.same((await s.list('/c/', { revision: mid })).items.map((i) => i.key), ['/c/a']);
    t.equal(dec((await s.get('/c/a')).kv?.value), '2');
    const w = s.watch('/c/', mid);
    t.teardown(() => w.close());
    const ev = await new WatchReader(w).events(1);
    t.equal(ev[0]?.kv.modRevision, b.modRevision, 'history after the compaction point is still watchable');
    t.equal(dec(ev[0]?.prevKv?.value), '1');
    await s.compact(s.currentRevision());
    t.equal(dec((await s.get('/c/a')).kv?.value), '2', 'live keys survive compaction');
    t.equal((await s.list('/c/')).count, 1);
  });

  t.test('a slow watcher is closed with a reason', async (t) => {
    const { s } = await open(t, { watchBuffer: 5 });
    const w = s.watch('/slow/', 0);
    t.teardown(() => w.close());
    for (let i = 0; i < 10; i++) await s.create(`/slow/${i}`, enc('x'));
    t.ok(await pollUntil(() => w.closedReason !== undefined), 'closed');
    t.match(w.closedReason, /slow/);
    t.throws(() => s.watch('/slow/', 1), { name: 'CompactedError' }, 'a replay longer than the buffer answers Compacted (relist)');
    const fast = s.watch('/slow/', 0);
    fast.close();
    t.equal(fast.closedReason, undefined, 'closing by the client gives no store reason');
  });

  t.test('leases expire and delete their keys with delete events', async (t) => {
    const { s, clock } = await open(t);
    const lease = await s.grantLease(10);
    const other = await s.grantLease(3600);
    await s.create('/l/a', enc('1'), { lease });
    const b = await s.create('/l/b', enc('1'));
    await s.update('/l/b', enc('2'), b.modRevision, { lease });
    await s.create('/l/keep', enc('1'), { lease: other });
    await s.create('/l/plain', enc('1'));
    await rejects(t, s.create('/l/bad', enc('1'), { lease: 987654 }), LeaseNotFoundError, 'unknown lease');
    const w = s.watch('/l/', 0);
    t.teardown(() => w.close());
    const r = new WatchReader(w);
    clock.advance(5_000);
    t.equal((await s.count('/l/')).count, 4, 'nothing expires early');
    const expired = pollUntil(async () => (await s.count('/l/')).count === 2, () => clock.advance(1_000));
    t.ok(await expired, 'keys of the expired lease are deleted');
    const ev = await r.events(2);
    t.same(ev.map((e) => `${e.type} ${e.kv.key}`).sort(), ['delete /l/a', 'delete /l/b']);
    t.ok(ev.every((e) => e.prevKv?.lease === lease), 'delete events carry the previous value');
    t.same((await s.list('/l/')).items.map((i) => i.key), ['/l/keep', '/l/plain']);
    await s.revokeLease(other);
    t.equal((await s.get('/l/keep')).kv, undefined, 'revoke deletes at once');
    await s.revokeLease(other);
  });

  t.test('deferred updates read, list, watch and conflict like any update', async (t) => {
    const { s } = await open(t);
    const a = await s.create('/d/a', enc('0'));
    const w = s.watch('/d/', a.modRevision);
    t.teardown(() => w.close());
    const r = new WatchReader(w);
    const u1 = await s.update('/d/a', enc('1'), a.modRevision, { deferred: true });
    t.equal(u1.modRevision, a.modRevision + 1, 'a deferred update takes the next revision');
    t.equal(u1.version, 2);
    const u2 = await s.update('/d/a', enc('2'), u1.modRevision, { deferred: true });
    await rejects(t, s.update('/d/a', enc('x'), u1.modRevision, { deferred: true }), ConflictError, 'stale expected revision');
    t.equal(dec((await s.get('/d/a')).kv?.value), '2', 'get sees it at once');
    t.equal(s.currentRevision(), u2.modRevision);
    t.same((await s.list('/d/')).items.map((i) => dec(i.value)), ['2'], 'list sees it');
    t.equal(dec((await s.get('/d/a', { revision: u1.modRevision })).kv?.value), '1', 'history keeps every deferred revision');
    const ev = await r.events(2);
    t.same(ev.map((e) => [e.kv.modRevision, dec(e.kv.value), dec(e.prevKv?.value)]), [[u1.modRevision, '1', '0'], [u2.modRevision, '2', '1']], 'watchers see them');
    const hw = s.watch('/d/', a.modRevision);
    t.teardown(() => hw.close());
    const h = new WatchReader(hw);
    t.same((await h.events(2)).map((e) => e.kv.modRevision), [u1.modRevision, u2.modRevision], 'a watch from history replays them');
    const b = await s.create('/d/b', enc('1'));
    t.equal(b.modRevision, u2.modRevision + 1, 'an ordinary write follows without a gap');
  });

  t.test('revisions strictly increase without gaps under concurrent writes', async (t) => {
    const { s } = await open(t);
    const start = s.currentRevision();
    const w = s.watch('/cc/', 0);
    t.teardown(() => w.close());
    const r = new WatchReader(w);
    const n = 200;
    const writes: Promise<{ modRevision: number } | undefined>[] = [];
    for (let i = 0; i < n; i++) {
      writes.push(s.create(`/cc/${i}`, enc(String(i))));
      if (i % 10 === 0) writes.push(s.create(`/cc/${i}`, enc('dup')).then(() => undefined, () => undefined));
    }
    // Ten clients writing one after another each, so that the writes spread over many commits.
    const clients = Array.from({ length: 10 }, async (_, c) => {
      const out: { modRevision: number }[] = [];
      for (let i = 0; i < 10; i++) {
        const kv = await s.create(`/cc/c${c}`, enc('1')).catch(() => s.update(`/cc/c${c}`, enc(String(i)), 0));
        out.push(kv);
      }
      return out;
    });
    const total = n + 100;
    const revs = [...(await Promise.all(writes)), ...(await Promise.all(clients)).flat()]
      .filter((x) => x !== undefined).map((x) => x.modRevision).sort((a, b) => a - b);
    t.equal(revs.length, total);
    t.same(revs, Array.from({ length: total }, (_, i) => start + i + 1), 'one revision per successful write, no gaps');
    t.equal(s.currentRevision(), start + total);
    const ev = await r.events(total);
    t.same(ev.map((e) => e.kv.modRevision), revs, 'the watcher sees every revision in order');
  });
}
