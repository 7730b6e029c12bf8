// Snapshots of the SQLite store, like `k3s etcd-snapshot save` and `--cluster-reset-restore-path`.
//
// save: a consistent online copy through SQLite's backup API; safe while `tsk server` runs (it may restart its
//       copy when the server writes meanwhile, so very busy stores take longer).
// restore: offline only. It refuses while a live process holds the database (the `<db>.pid` file the store writes
//       while open), checks the snapshot, keeps the current database as `<db>.before-restore-<time>` and swaps the
//       snapshot in with a rename. Stop the server first; start it again afterwards. Watchers and clients see the
//       restored revision, which may be older than the one they knew: they relist.
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openSqlite } from './sqlite-driver.ts';
import { SCHEMA_VERSION } from './sqlite-schema.ts';
import { holderPid } from './pid-file.ts';

export interface SnapshotInfo {
  file: string;
  size: number;
  /** The store revision the snapshot holds. */
  revision: number;
}

export class StoreInUseError extends Error {
  readonly pid: number;
  constructor(dbPath: string, pid: number) {
    super(`the store ${dbPath} is open in process ${pid}; stop tsk server before restoring`);
    this.name = 'StoreInUseError';
    this.pid = pid;
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Opens a snapshot or database read-only and checks that it is an intact tsk store; returns its revision. */
export function inspect(file: string, opts: { nativeBinding?: unknown } = {}): number {
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  let db;
  try {
    db = openSqlite(file, { readonly: true, fileMustExist: true, nativeBinding: opts.nativeBinding, busyTimeoutMs: 5000 });
  } catch (err) {
    throw new Error(`${file} is not a SQLite database`, { cause: err });
  }
  try {
    const check = String(db.pragma('quick_check'));
    if (check !== 'ok') throw new Error(`${file} is damaged: ${check}`);
    const version = Number(db.pragma('user_version'));
    const tables = db.prepare<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name);
    if (!['kv', 'latest', 'meta', 'leases'].every((t) => tables.includes(t)) || version < 1) throw new Error(`${file} is not a tsk store`);
    if (version > SCHEMA_VERSION) throw new Error(`${file} has store schema ${version}, newer than this tsk understands (${SCHEMA_VERSION})`);
    const max = db.prepare<{ rev: number | null }>('SELECT max(rev) AS rev FROM kv').get()?.rev ?? 0;
    const meta = db.prepare<{ value: number }>("SELECT value FROM meta WHERE name = 'rev'").get()?.value ?? 0;
    return Math.max(max, meta);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith(file)) throw err;
    throw new Error(`${file} is not a readable tsk store`, { cause: err });
  } finally {
    db.close();
  }
}

/** Writes a consistent copy of the database at dbPath to outFile (through a temporary file and a rename). */
export async function save(dbPath: string, outFile: string, opts: { nativeBinding?: unknown } = {}): Promise<SnapshotInfo> {
  if (!existsSync(dbPath)) throw new Error(`no store database at ${dbPath}`);
  if (existsSync(outFile)) throw new Error(`${outFile} already exists`);
  mkdirSync(dirname(outFile), { recursive: true, mode: 0o700 });
  const tmp = `${outFile}.partial`;
  rmSync(tmp, { force: true });
  const db = openSqlite(dbPath, { fileMustExist: true, nativeBinding: opts.nativeBinding, busyTimeoutMs: 30_000 });
  try {
    await db.backup(tmp);
    // A standalone file: rollback journal instead of WAL, so readers leave no -wal/-shm files next to it.
    const copy = openSqlite(tmp, { fileMustExist: true, nativeBinding: opts.nativeBinding });
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new Error(`copying the store ${dbPath}`, { cause: err });
  } finally {
    db.close();
  }
  try {
    const revision = inspect(tmp, opts);
    fsyncPath(tmp);
    renameSync(tmp, outFile);
    fsyncPath(dirname(outFile));
    return { file: outFile, size: statSync(outFile).size, revision };
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Replaces the database at dbPath with the snapshot. Refuses while a live process holds the database.
 * Returns where the previous database was kept, if there was one.
 */
export function restore(file: string, dbPath: string, opts: { nativeBinding?: unknown; now?: Date } = {}): { previous?: string; revision: number } {
  const pid = holderPid(dbPath);
  if (pid !== undefined) throw new StoreInUseError(dbPath, pid);
  const revision = inspect(file, opts);
  mkdirSync(dirname(dbPath), { recursive: true, mode: 0o700 });
  const tmp = `${dbPath}.restore-tmp`;
  copyFileSync(file, tmp);
  fsyncPath(tmp);
  let previous: string | undefined;
  if (existsSync(dbPath)) {
    const stamp = (opts.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
    previous = `${dbPath}.before-restore-${stamp}`;
    renameSync(dbPath, previous);
    for (const ext of ['-wal', '-shm']) if (existsSync(dbPath + ext)) renameSync(dbPath + ext, previous + ext);
  } else {
    for (const ext of ['-wal', '-shm']) rmSync(dbPath + ext, { force: true });
  }
  renameSync(tmp, dbPath);
  fsyncPath(dirname(dbPath));
  return { previous, revision };
}

/** Snapshots in dir, newest first. */
export function listSnapshots(dir: string): { file: string; size: number; mtime: Date }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !n.endsWith('.partial'))
    .map((n) => {
      const st = statSync(join(dir, n));
      return { file: join(dir, n), size: st.size, mtime: st.mtime };
    })
    .sort((a, b) => b.mtime.getTime() - a.mtime.getTime());
}
