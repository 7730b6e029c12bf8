import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FakeClock } from '../clock.ts';
import { SqliteStore } from './sqlite.ts';
import { openSqlite } from './sqlite-driver.ts';
import { storeConformance } from './conformance.ts';
import { pollUntil, spawnWriter } from './test-fixture.ts';
import { tempDir } from '../test-fixture.ts';

const dir = tempDir(t, 'tsk-sqlite-test-');
let n = 0;

t.test('sqlite store conformance', async (t) => {
  storeConformance(t, async ({ clock, watchBuffer }) =>
    new SqliteStore({ path: join(dir, `c${++n}.db`), clock, watchBuffer, compactIntervalMs: 0 }));
});

const enc = (s: string) => new TextEncoder().encode(s);

t.test('writes issued in the same tick share one transaction', async (t) => {
  const s = new SqliteStore({ path: join(dir, 'group.db'), compactIntervalMs: 0 });
  t.teardown(() => s.close());
  const before = s.stats().transactions;
  const kvs = await Promise.all(Array.from({ length: 50 }, (_, i) => s.create(`/g/${i}`, enc('x'))));
  t.equal(s.stats().transactions - before, 1, 'one commit');
  t.equal(new Set(kvs.map((k) => k.modRevision)).size, 50, 'each write has its own revision');
});

t.test('state survives reopening: revision, compaction point, leases', async (t) => {
  const clock = new FakeClock();
  const path = join(dir, 'reopen.db');
  let s = new SqliteStore({ path, clock, compactIntervalMs: 0 });
  const lease = await s.grantLease(60);
  await s.create('/r/a', enc('1'), { lease });
  await s.create('/r/b', enc('1'));
  await s.delete('/r/b', 0);
  await s.compact(s.currentRevision());
  const rev = s.currentRevision();
  await s.close();
  s = new SqliteStore({ path, clock, compactIntervalMs: 0 });
  t.teardown(() => s.close());
  t.equal(s.currentRevision(), rev, 'revision kept although the last row (a tombstone) was compacted');
  t.equal(s.compactRevision(), rev);
  const c = await s.create('/r/c', enc('1'));
  t.equal(c.modRevision, rev + 1, 'no gap after reopening');
  t.ok(await pollUntil(async () => (await s.get('/r/a')).kv === undefined, () => clock.advance(10_000)), 'persisted lease expires');
});

t.test('acknowledged writes survive kill -9', async (t) => {
  const path = join(dir, 'crash.db');
  const acked = new Map<string, number>();
  const { child, exited } = spawnWriter(t, 'crash-writer.ts', path, (l) => {
    const [k, r] = l.split(' ');
    acked.set(k!, Number(r));
  });
  t.ok(await pollUntil(() => acked.size >= 200 || child.exitCode !== null), 'writer acknowledged writes');
  child.kill('SIGKILL');
  await exited;
  t.equal(child.signalCode, 'SIGKILL');
  const s = new SqliteStore({ path, compactIntervalMs: 0 });
  t.teardown(() => s.close());
  let missing = 0;
  for (const [key, rev] of acked) {
    const got = await s.get(key);
    if (got.kv?.modRevision !== rev || new TextDecoder().decode(got.kv.value) !== `value-${key}`) missing++;
  }
  t.equal(missing, 0, `all ${acked.size} acknowledged writes are present`);
  const all = await s.list('/crash/');
  t.equal(all.count, s.currentRevision(), 'revisions 1..current have no gaps');
  t.same(all.items.map((i) => i.modRevision).sort((a, b) => a - b), Array.from({ length: all.count }, (_, i) => i + 1));
});

t.test('a locked database postpones compaction and fails writes without gaps', async (t) => {
  const path = join(dir, 'locked.db');
  const s = new SqliteStore({ path, compactIntervalMs: 0, busyTimeoutMs: 20 });
  t.teardown(() => s.close());
  for (let i = 0; i < 20; i++) await s.update('/lk', enc(String(i)), 0).catch(() => s.create('/lk', enc(String(i))));
  const target = s.currentRevision();
  const other = openSqlite(path, { busyTimeoutMs: 0 });
  other.exec('BEGIN IMMEDIATE');
  await s.compact(target);
  t.equal(s.compactRevision(), 0, 'compaction postponed, not failed');
  await t.rejects(s.create('/lk2', enc('x')), /store write failed/);
  t.equal(s.currentRevision(), target, 'the failed write gave its revision back');
  other.exec('ROLLBACK');
  other.close();
  await s.compact(target);
  t.equal(s.compactRevision(), target, 'compaction runs once the lock is gone');
  t.equal((await s.create('/lk2', enc('x'))).modRevision, target + 1);
});

t.test('periodic compaction keeps the retention, reclaims space, and idles without writing', async (t) => {
  const clock = new FakeClock();
  const path = join(dir, 'periodic.db');
  const value = enc('x'.repeat(1024));
  let s = new SqliteStore({ path, clock, compactIntervalMs: 60_000, compactRetentionMs: 60_000 });
  for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 200 }, (_, j) => s.create(`/big/${i}/${j}`, value)));
  for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 200 }, (_, j) => s.delete(`/big/${i}/${j}`, 0)));
  await s.close();
  const big = statSync(path).size;
  t.ok(big > 2_000_000, `database holds the history (${big} bytes)`);
  s = new SqliteStore({ path, clock, compactIntervalMs: 60_000, compactRetentionMs: 60_000 });
  t.teardown(() => s.close());
  const rev = s.currentRevision();
  clock.advance(60_000);
  t.equal(s.compactRevision(), 0, 'history younger than the retention is kept');
  await s.create('/after', enc('1'));
  clock.advance(60_000);
  t.ok(await pollUntil(() => s.compactRevision() === rev), 'compacted to the revision seen one retention ago');
  t.ok(await pollUntil(() => statSync(path).size < big / 4), `space reclaimed (${statSync(path).size} bytes)`);
  t.equal((await s.get('/after')).kv?.version, 1);
  const files = () => [path, `${path}-wal`].map((f) => { try { const st = statSync(f); return `${st.size}:${st.mtimeMs}`; } catch { return '-'; } }).join(' ');
  // The write above is compacted one period later (once the running compaction has finished); then nothing changes.
  await new Promise((r) => setTimeout(r, 20));
  clock.advance(60_000);
  t.ok(await pollUntil(() => s.compactRevision() === s.currentRevision()), 'the last write is compacted too');
  await new Promise((r) => setTimeout(r, 50));
  const idle = files();
  for (let i = 0; i < 10; i++) {
    clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 5));
  }
  t.equal(files(), idle, 'ten idle compaction periods write nothing');
});

t.test('a database held open by another live process is refused', async (t) => {
  const path = join(dir, 'held.db');
  writeFileSync(`${path}.pid`, '1\n'); // PID 1 is always alive
  t.throws(() => new SqliteStore({ path, compactIntervalMs: 0 }), /already open in process 1/);
  writeFileSync(`${path}.pid`, '999999999\n'); // not a live process: a stale file from a killed server
  const s = new SqliteStore({ path, compactIntervalMs: 0 });
  await s.close();
  t.notOk(existsSync(`${path}.pid`), 'the pid file is removed at close');
});

t.test('watchers that asked for progress notifications get them periodically', async (t) => {
  const clock = new FakeClock();
  const s = new SqliteStore({ path: join(dir, 'progress.db'), clock, compactIntervalMs: 0, progressIntervalMs: 5000 });
  t.teardown(() => s.close());
  await s.create('/p/a', new TextEncoder().encode('1'));
  const asked = s.watch('/p/', 0, { progressNotify: true });
  const quiet = s.watch('/p/', 0);
  t.teardown(() => { asked.close(); quiet.close(); });
  await s.create('/other', new TextEncoder().encode('1'));
  clock.advance(5000);
  const it = asked[Symbol.asyncIterator]();
  const m = await it.next();
  t.same(m.value, { progress: true, revision: 2 }, 'progress at the current revision, past events of other prefixes');
  quiet.close();
  const rest = [];
  for await (const x of quiet) rest.push(x);
  t.same(rest, [], 'no notification for a watcher that did not ask');
});

t.test('a pid file whose PID now names another process (reboot, reuse) is stale', async (t) => {
  const path = join(dir, 'reused.db');
  writeFileSync(`${path}.pid`, '1 not-this-boot 1\n');
  const s = new SqliteStore({ path, compactIntervalMs: 0 });
  await s.close();
  writeFileSync(`${path}.pid`, `1 ${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()} 123456789\n`);
  const again = new SqliteStore({ path, compactIntervalMs: 0 });
  await again.close();
  t.pass('opened both times');
});

t.test('a new database gets 1 KiB pages; an existing one keeps its page size', async (t) => {
  const pageSize = (path: string) => {
    const db = openSqlite(path);
    try {
      return Number(db.pragma('page_size'));
    } finally {
      db.close();
    }
  };
  const fresh = join(dir, 'page-new.db');
  const s = new SqliteStore({ path: fresh, compactIntervalMs: 0 });
  await s.create('/p/a', enc('x'.repeat(3000)));
  await s.close();
  t.equal(pageSize(fresh), 1024, 'new file');
  const old = join(dir, 'page-old.db');
  const db = openSqlite(old);
  db.exec('PRAGMA page_size = 4096; CREATE TABLE legacy(x)');
  db.close();
  const s2 = new SqliteStore({ path: old, compactIntervalMs: 0 });
  const kv = await s2.create('/p/b', enc('y'.repeat(3000)));
  t.equal((await s2.get('/p/b')).kv?.modRevision, kv.modRevision, 'usable');
  await s2.close();
  t.equal(pageSize(old), 4096, 'existing file keeps 4 KiB pages');
});
