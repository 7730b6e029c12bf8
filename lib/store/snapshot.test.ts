import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { openStore, snapshotDir, storePath } from './open.ts';
import { inspect, restore, save } from './snapshot.ts';
import { tempDir } from '../test-fixture.ts';

const run = promisify(execFile);
const tsk = join(import.meta.dirname, '..', '..', 'cmd', 'tsk.ts');
const enc = (s: string) => new TextEncoder().encode(s);

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // TSK_* variables are flags to the CLI; keep the test runner's own out.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TSK_')));
    const r = await run(process.execPath, [tsk, ...args], { timeout: 60_000, env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Runs the CLI in this process, capturing what it writes to stdout. */
async function cliInProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../cmd/cli.ts');
  // TSK_* variables are flags to the CLI (yargs .env('TSK')); keep the test runner's own (TSK_TEST) out.
  const saved = Object.entries(process.env).filter(([k]) => k.startsWith('TSK_'));
  for (const [k] of saved) delete process.env[k];
  let stdout = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await main(args), stdout, stderr: '' };
  } catch (err) {
    return { code: 1, stdout, stderr: (err as Error).message };
  } finally {
    process.stdout.write = write;
    for (const [k, v] of saved) process.env[k] = v;
  }
}

t.test('snapshot save while the server runs, restore once it stopped', async (t) => {
  const dataDir = tempDir(t, 'tsk-snapshot-');
  let store = await openStore({ dataDir, compactIntervalMs: 0 });
  t.teardown(() => store.close());
  t.ok(existsSync(storePath(dataDir)), 'database at <data-dir>/server/db/state.db');
  await store.create('/a', enc('1'));
  await store.create('/gone', enc('1'));
  await store.delete('/gone', 0);
  const rev = store.currentRevision();

  // The server keeps writing while the snapshot is taken from another process.
  let writing = true;
  let n = 0;
  const loop = (async () => {
    while (writing) await store.create(`/bg/${n++}`, enc('x'));
  })();
  const saved = await cli('snapshot', 'save', '--data-dir', dataDir, '--name', 'test');
  writing = false;
  await loop;
  t.equal(saved.code, 0, saved.stderr);
  const m = /snapshot .*\/server\/db\/snapshots\/test-.* saved .*revision (\d+)/.exec(saved.stdout);
  t.ok(m, saved.stdout);
  const snapRev = Number(m?.[1]);
  t.ok(snapRev >= rev && snapRev <= store.currentRevision(), 'a revision the store went through');
  const files = readdirSync(snapshotDir(dataDir));
  t.equal(files.length, 1);
  const snap = join(snapshotDir(dataDir), files[0]!);

  await store.create('/b', enc('after the snapshot'));
  const refused = await cliInProcess('snapshot', 'restore', snap, '--data-dir', dataDir);
  t.not(refused.code, 0, 'restore refuses while the store is open');
  t.match(refused.stderr, /stop tsk server/);
  t.throws(() => restore(snap, storePath(dataDir)), { name: 'StoreInUseError' });

  await store.close();
  const restored = await cliInProcess('snapshot', 'restore', files[0]!, '--data-dir', dataDir);
  t.equal(restored.code, 0, restored.stderr);
  t.match(restored.stdout, /previous database was kept/);
  store = await openStore({ dataDir, compactIntervalMs: 0 });
  t.equal(store.currentRevision(), snapRev, 'the snapshot revision');
  t.equal((await store.count('/bg/')).count, snapRev - rev, 'a consistent copy: every write up to its revision, none after');
  t.equal(new TextDecoder().decode((await store.get('/a')).kv?.value), '1');
  t.equal((await store.get('/b')).kv, undefined, 'writes after the snapshot are gone');
  t.equal((await store.create('/c', enc('1'))).modRevision, snapRev + 1);

  const ls = await cliInProcess('snapshot', 'ls', '--data-dir', dataDir);
  t.match(ls.stdout, files[0]!);
});

t.test('save and restore as functions; damaged input is refused', async (t) => {
  const dir = tempDir(t, 'tsk-snapshot-');
  const store = await openStore({ dataDir: dir, compactIntervalMs: 0 });
  for (let i = 0; i < 100; i++) await store.create(`/k/${i}`, enc('x'.repeat(500)));
  const info = await save(storePath(dir), join(dir, 'copy.db'));
  t.equal(info.revision, 100);
  await t.rejects(save(storePath(dir), join(dir, 'copy.db')), /already exists/);
  await store.close();
  t.equal(inspect(info.file), 100);
  writeFileSync(join(dir, 'junk'), 'not a database');
  t.throws(() => restore(join(dir, 'junk'), join(dir, 'fresh', 'state.db')), /not a SQLite database|not a readable tsk store/);
  t.throws(() => restore(join(dir, 'missing'), join(dir, 'fresh', 'state.db')), /does not exist/);
  const r = restore(info.file, join(dir, 'fresh', 'state.db'));
  t.equal(r.previous, undefined);
  const again = await openStore({ dataDir: join(dir, 'fresh-2'), compactIntervalMs: 0 });
  await again.close();
  t.equal(inspect(join(dir, 'fresh', 'state.db')), 100);
});
