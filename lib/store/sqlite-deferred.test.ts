// Deferred writes of the SQLite store (WriteOptions.deferred): visible at once, committed lazily, lost harmlessly on a
// crash without ever reusing a revision.
import { join } from 'node:path';
import t from 'tap';
import { FakeClock } from '../clock.ts';
import { DEFERRED_BOUND, SqliteStore } from './sqlite.ts';
import { openSqlite } from './sqlite-driver.ts';
import { WatchReader } from './conformance.ts';
import { pollUntil, spawnWriter } from './test-fixture.ts';
import { tempDir } from '../test-fixture.ts';

const dir = tempDir(t, 'tsk-sqlite-deferred-');
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/** What another connection (a crash-recovered reader) sees: committed rows only. */
function committed(path: string, key: string): { rev: number; value: string } | undefined {
  const db = openSqlite(path, { readonly: true, fileMustExist: true });
  try {
    const r = db.prepare<{ rev: number; value: Uint8Array }>('SELECT h.rev, h.value FROM latest l JOIN kv h ON h.rev = l.rev WHERE l.key = ?').get(key);
    return r && { rev: r.rev, value: dec(r.value)! };
  } finally {
    db.close();
  }
}

t.test('deferred updates are committed after deferredCommitMs, with the next ordinary write, or at close', async (t) => {
  const clock = new FakeClock();
  const path = join(dir, 'lazy.db');
  const s = new SqliteStore({ path, clock, compactIntervalMs: 0, deferredCommitMs: 60_000 });
  const a = await s.create('/hb/a', enc('0'));
  const tx0 = s.stats().transactions;
  const first = await s.update('/hb/a', enc('1'), 0, { deferred: true });
  t.equal(s.stats().transactions, tx0 + 1, 'the first deferred write of a session is committed (it marks the store as deferring)');
  t.same(committed(path, '/hb/a'), { rev: first.modRevision, value: '1' });
  let last = first;
  for (let i = 2; i <= 6; i++) last = await s.update('/hb/a', enc(String(i)), last.modRevision, { deferred: true });
  t.equal(s.stats().transactions, tx0 + 1, 'later deferred writes are not committed');
  t.equal(s.stats().deferredPending, 5);
  t.same(committed(path, '/hb/a'), { rev: first.modRevision, value: '1' }, 'other connections do not see them yet');
  t.equal(dec((await s.get('/hb/a')).kv?.value), '6', 'this store reads them');
  clock.advance(59_000);
  t.equal(s.stats().deferredPending, 5, 'not committed before deferredCommitMs');
  clock.advance(1_000);
  t.equal(s.stats().deferredPending, 0, 'committed once deferredCommitMs has passed since the first of them');
  t.equal(s.stats().deferredCommits, 1);
  t.equal(s.stats().transactions, tx0 + 2, 'five renewals, one commit');
  t.same(committed(path, '/hb/a'), { rev: last.modRevision, value: '6' });

  last = await s.update('/hb/a', enc('7'), 0, { deferred: true });
  const b = await s.create('/hb/b', enc('1'));
  t.equal(b.modRevision, last.modRevision + 1);
  t.equal(s.stats().deferredPending, 0, 'an ordinary write commits the deferred ones with it');
  t.same(committed(path, '/hb/a'), { rev: last.modRevision, value: '7' });
  t.equal(s.stats().transactions, tx0 + 3);

  last = await s.update('/hb/a', enc('8'), 0, { deferred: true });
  await s.close();
  t.same(committed(path, '/hb/a'), { rev: last.modRevision, value: '8' }, 'close commits them');
  const again = new SqliteStore({ path, clock, compactIntervalMs: 0 });
  t.teardown(() => again.close());
  t.equal(again.currentRevision(), last.modRevision, 'after a clean close no revision is skipped');
  t.equal((await again.create('/hb/c', enc('1'))).modRevision, last.modRevision + 1);
  void a;
});

t.test('deferredCommitMs 0 commits every write', async (t) => {
  const s = new SqliteStore({ path: join(dir, 'eager.db'), compactIntervalMs: 0, deferredCommitMs: 0 });
  t.teardown(() => s.close());
  await s.create('/e', enc('0'));
  for (let i = 1; i < 4; i++) await s.update('/e', enc(String(i)), 0, { deferred: true });
  t.equal(s.stats().deferredPending, 0);
  t.same(committed(join(dir, 'eager.db'), '/e')?.value, '3');
});

t.test('a batch mixing deferred and ordinary writes is committed; conflicts take no revision', async (t) => {
  const s = new SqliteStore({ path: join(dir, 'mixed.db'), compactIntervalMs: 0 });
  t.teardown(() => s.close());
  const a = await s.create('/m/a', enc('0'));
  await s.update('/m/a', enc('1'), 0, { deferred: true }); // marks the session
  const [u, c, bad] = await Promise.allSettled([
    s.update('/m/a', enc('2'), 0, { deferred: true }),
    s.create('/m/b', enc('1')),
    s.update('/m/a', enc('x'), a.modRevision, { deferred: true }),
  ]);
  t.equal(u.status, 'fulfilled');
  t.equal(c.status, 'fulfilled');
  t.equal(bad.status, 'rejected', 'the stale update conflicts');
  t.equal(s.stats().deferredPending, 0);
  t.equal(s.currentRevision(), a.modRevision + 3);
  const only = await Promise.allSettled([s.update('/m/a', enc('y'), a.modRevision, { deferred: true })]);
  t.equal(only[0]!.status, 'rejected');
  t.equal(s.stats().deferredPending, 0, 'a failed deferred write leaves nothing pending');
  t.equal(s.currentRevision(), a.modRevision + 3);
});

t.test('watchers see deferred writes at once; compaction commits them first', async (t) => {
  const clock = new FakeClock();
  const s = new SqliteStore({ path: join(dir, 'watch.db'), clock, compactIntervalMs: 0 });
  t.teardown(() => s.close());
  let kv = await s.create('/w/a', enc('0'));
  kv = await s.update('/w/a', enc('1'), 0, { deferred: true });
  const w = s.watch('/w/', 0);
  t.teardown(() => w.close());
  const r = new WatchReader(w);
  const revs: number[] = [];
  for (let i = 2; i < 5; i++) revs.push((kv = await s.update('/w/a', enc(String(i)), kv.modRevision, { deferred: true })).modRevision);
  t.same((await r.events(3)).map((e) => e.kv.modRevision), revs, 'live watcher');
  t.ok(s.stats().deferredPending > 0);
  await s.compact(revs[1]!);
  t.equal(s.stats().deferredPending, 0, 'compaction committed the deferred writes before its own transaction');
  t.equal(s.compactRevision(), revs[1]);
  t.equal(dec((await s.get('/w/a')).kv?.value), '4');
  kv = await s.update('/w/a', enc('5'), kv.modRevision, { deferred: true });
  t.equal(s.stats().deferredPending, 1, 'deferring goes on after compaction');
});

t.test('kill -9 loses only deferred writes and never reuses a revision', async (t) => {
  const path = join(dir, 'crash.db');
  let created = 0;
  let lastAcked = 0;
  let pendingSeen = 0;
  const { child, exited } = spawnWriter(t, 'deferred-writer.ts', path, (l) => {
    const [kind, rev, pending] = l.split(' ');
    if (kind === 'create') created = Number(rev);
    else { lastAcked = Math.max(lastAcked, Number(rev)); pendingSeen = Math.max(pendingSeen, Number(pending)); }
  });
  // Past DEFERRED_BOUND, so that at least one bound-forced commit happened too.
  t.ok(await pollUntil(() => lastAcked >= created + DEFERRED_BOUND + 300 || child.exitCode !== null), 'writer acknowledged deferred writes');
  child.kill('SIGKILL');
  await exited;
  t.equal(child.signalCode, 'SIGKILL');
  t.ok(pendingSeen > 1 && pendingSeen <= DEFERRED_BOUND, `deferred writes were pending (up to ${pendingSeen})`);
  const onDisk = committed(path, '/hb/node');
  t.ok(onDisk && onDisk.rev >= created && onDisk.rev <= lastAcked, 'the key holds an acknowledged value, perhaps an older one');
  const s = new SqliteStore({ path, compactIntervalMs: 0 });
  t.teardown(() => s.close());
  t.ok(s.currentRevision() > lastAcked, `the revision (${s.currentRevision()}) is past every acknowledged one (${lastAcked})`);
  t.equal(s.currentRevision(), onDisk!.rev + DEFERRED_BOUND, 'the bound is skipped');
  const got = await s.get('/hb/node');
  t.equal(got.kv?.modRevision, onDisk!.rev);
  const next = await s.update('/hb/node', enc('after'), 0);
  t.ok(next.modRevision > lastAcked, 'a new write never reuses a revision a client saw');
  await s.close();
  const again = new SqliteStore({ path, compactIntervalMs: 0 });
  t.teardown(() => again.close());
  t.equal(again.currentRevision(), next.modRevision, 'a store that did not defer since does not skip again');
});

/** The committed state of a live store, as a crash would leave it. */
async function crashCopy(path: string, to: string): Promise<string> {
  const src = openSqlite(path, { readonly: true });
  try {
    await src.backup(to);
  } finally {
    src.close();
  }
  return to;
}

t.test('revisions stay monotonic over repeated crashes', async (t) => {
  const path = join(dir, 'twice.db');
  const s = new SqliteStore({ path, compactIntervalMs: 0, pidFile: false });
  const kv = await s.create('/t', enc('0'));
  await s.update('/t', enc('1'), 0, { deferred: true }); // committed: marks the store as deferring
  await s.update('/t', enc('2'), 0, { deferred: true }); // pending
  const crashed = await crashCopy(path, join(dir, 'twice-1.db'));
  await s.close();
  const first = new SqliteStore({ path: crashed, compactIntervalMs: 0, pidFile: false });
  const r1 = first.currentRevision();
  t.equal(r1, kv.modRevision + 1 + DEFERRED_BOUND, 'the first open after the crash skips');
  const early = await crashCopy(crashed, join(dir, 'twice-2.db'));
  const second = new SqliteStore({ path: early, compactIntervalMs: 0, pidFile: false });
  t.equal(second.currentRevision(), r1, 'a crash right after the skip: the skip was durable, no second one');
  await second.update('/t', enc('3'), 0, { deferred: true });
  await second.update('/t', enc('4'), 0, { deferred: true });
  const late = await crashCopy(early, join(dir, 'twice-3.db'));
  await second.close();
  await first.close();
  const third = new SqliteStore({ path: late, compactIntervalMs: 0, pidFile: false });
  t.teardown(() => third.close());
  t.equal(third.currentRevision(), r1 + 1 + DEFERRED_BOUND, 'a crash while deferring again skips again from the committed revision');
});

t.test('compactMinRevisions holds back periodic compaction of a few revisions until compactMaxDelayMs', async (t) => {
  const clock = new FakeClock();
  const s = new SqliteStore({
    path: join(dir, 'min-rev.db'), clock, compactIntervalMs: 60_000, compactRetentionMs: 60_000, compactMinRevisions: 100, compactMaxDelayMs: 600_000,
  });
  t.teardown(() => s.close());
  await s.create('/k', enc('0'));
  for (let i = 0; i < 5; i++) {
    await s.update('/k', enc(String(i)), 0);
    await s.compactNow(); // samples the revision as the periodic timer would
    clock.advance(60_000);
  }
  await s.compactNow();
  t.equal(s.compactRevision(), 0, 'a handful of revisions: not compacted');
  for (let i = 0; i < 120; i++) await s.update('/k', enc(String(i)), 0);
  await s.compactNow();
  clock.advance(60_000);
  await s.compactNow();
  t.ok(s.compactRevision() > 100, `compacted once enough revisions piled up (${s.compactRevision()})`);
  const at = s.compactRevision();
  await s.update('/k', enc('x'), 0);
  await s.compactNow();
  clock.advance(60_000);
  await s.compactNow();
  t.equal(s.compactRevision(), at, 'one more revision waits');
  clock.advance(600_000);
  await s.compactNow();
  t.equal(s.compactRevision(), s.currentRevision(), 'compacted after compactMaxDelayMs');
});
