// The one adapter over better-sqlite3: everything else in tsk sees only these small interfaces.
import Database from 'better-sqlite3';
import { loadEmbeddedAddon } from '../native.ts';

let embedded: { addon: object | undefined } | undefined;

/** Inside the single executable: the addon shipped as an asset (loaded once); otherwise undefined. */
function embeddedAddon(): object | undefined {
  embedded ??= { addon: loadEmbeddedAddon('better_sqlite3.node') };
  return embedded.addon;
}

export interface SqlStatement<R = Record<string, unknown>> {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): R | undefined;
  all(...params: unknown[]): R[];
}

export interface SqlDb {
  exec(sql: string): void;
  prepare<R = Record<string, unknown>>(sql: string): SqlStatement<R>;
  /** Runs a PRAGMA and returns its single value (or undefined). */
  pragma(sql: string): unknown;
  /** Consistent online copy of the whole database into a new file. */
  backup(destination: string): Promise<void>;
  readonly inTransaction: boolean;
  /** Copies the WAL into the database and truncates it, without waiting for readers; false when a reader blocked it. */
  checkpoint(): boolean;
  close(): void;
}

export interface OpenSqliteOptions {
  readonly?: boolean;
  /** Milliseconds to wait on a locked database before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** A loaded better-sqlite3 addon or a path to one (default: the one embedded in the single executable, if any). */
  nativeBinding?: unknown;
  /** Fail when the file does not exist instead of creating it. */
  fileMustExist?: boolean;
}

export function openSqlite(path: string, opts: OpenSqliteOptions = {}): SqlDb {
  const nativeBinding = opts.nativeBinding ?? loadEmbeddedAddon('better_sqlite3.node');
  const db = new Database(path, {
    readonly: opts.readonly ?? false,
    fileMustExist: opts.fileMustExist ?? false,
    timeout: opts.busyTimeoutMs ?? 30_000,
    ...(nativeBinding ? { nativeBinding: nativeBinding as string } : {}),
  });
  return {
    exec: (sql) => void db.exec(sql),
    prepare: <R>(sql: string) => db.prepare(sql) as unknown as SqlStatement<R>,
    pragma: (sql) => db.pragma(sql, { simple: true }),
    // All remaining pages in one step: one read transaction, so writers in other processes cannot make the copy
    // start over (which SQLite does when the source changes between steps).
    backup: async (destination) => void (await db.backup(destination, { progress: () => 0x7fffffff })),
    get inTransaction() {
      return db.inTransaction;
    },
    checkpoint() {
      db.pragma('busy_timeout = 0');
      try {
        const row = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
        return !row[0]?.busy;
      } finally {
        db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 30_000}`);
      }
    },
    close: () => db.close(),
  };
}

/** True when err is SQLite's "database is locked" / "database is busy". */
export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY'));
}
