// SQLite layout of the store and its prepared statements.
//
// kv      one row per revision (history); rev is the global revision and the rowid, so a write appends.
// latest  the newest row of every key (tombstones included until compaction): list and get at the current
//         revision read it directly instead of scanning history.
// leases  TTL leases; keys name their lease in kv.lease.
// meta    compact_rev (reads/watches below it fail with Compacted) and rev (the revision at the last compaction,
//         so the current revision survives compaction of a trailing tombstone).
import type { KeyValue } from './types.ts';
import type { SqlDb, SqlStatement } from './sqlite-driver.ts';

export const SCHEMA_VERSION = 1;

const TABLES = `
CREATE TABLE IF NOT EXISTS kv (
  rev INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  prev_rev INTEGER NOT NULL,
  version INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  lease INTEGER NOT NULL,
  value BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_key_rev ON kv(key, rev);
CREATE INDEX IF NOT EXISTS kv_lease ON kv(lease) WHERE lease != 0;
CREATE TABLE IF NOT EXISTS latest (key TEXT PRIMARY KEY, rev INTEGER NOT NULL, deleted INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (id INTEGER PRIMARY KEY AUTOINCREMENT, ttl INTEGER NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

export interface Row {
  rev: number;
  key: string;
  create_rev: number;
  prev_rev: number;
  version: number;
  deleted: number;
  lease: number;
  value: Uint8Array;
}

export interface EventRow extends Row {
  p_rev: number | null;
  p_create_rev: number | null;
  p_version: number | null;
  p_lease: number | null;
  p_value: Uint8Array | null;
}

export function toKv(r: Row): KeyValue {
  return { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.rev, version: r.version, lease: r.lease };
}

export function prevOf(r: EventRow): KeyValue | undefined {
  if (r.p_rev == null) return undefined;
  return { key: r.key, value: r.p_value!, createRevision: r.p_create_rev!, modRevision: r.p_rev, version: r.p_version!, lease: r.p_lease! };
}

/** Upper bound (exclusive) of every key that starts with prefix, in SQLite's byte order. */
export function rangeEnd(prefix: string): string {
  if (!prefix) return '\u{10FFFF}';
  const cps = [...prefix];
  const last = cps.pop()!.codePointAt(0)!;
  return cps.join('') + String.fromCodePoint(Math.min(last + 1, 0x10ffff));
}

/**
 * Page size of new databases (existing ones keep theirs). Every fsync'd commit appends each page it touched to the
 * WAL (page 1, the row's leaf, its overflow page, a leaf of kv_key_rev and of latest: ~5 pages per update), so small
 * pages cut the bytes written per update: 1 KiB pages write ~12 KB per 1 KiB-value update, 4 KiB pages ~22 KB.
 */
export const NEW_PAGE_SIZE = 1024;

/**
 * Bytes of the database file read through a memory map. With 1 KiB pages a 1 KiB value sits in an overflow page,
 * which SQLite reads with one pread each, bypassing its cache: listing 10,000 such keys took 2.6x the CPU of 4 KiB
 * pages; mapped, the same as 4 KiB pages. Touched pages of the file count in the process's RSS (shared, reclaimable).
 */
const MMAP_BYTES = 128 * 1024 * 1024;

/** WAL bytes between automatic checkpoints (SQLite counts them in pages: 1000 by default). */
const AUTOCHECKPOINT_BYTES = 4 * 1024 * 1024;

/** Applies pragmas and creates the tables of a fresh database; refuses a newer schema. */
export function initSchema(db: SqlDb, opts: { synchronous: 'full' | 'normal'; pageSize?: number }): void {
  // page_size and auto_vacuum only take effect before the database's first write (page_count 0).
  if (Number(db.pragma('page_count')) === 0) db.pragma(`page_size = ${opts.pageSize ?? NEW_PAGE_SIZE}`);
  db.pragma('auto_vacuum = INCREMENTAL');
  const mode = db.pragma('journal_mode = WAL');
  if (!['wal', 'memory'].includes(String(mode).toLowerCase())) throw new Error(`cannot switch the store to WAL mode (got ${String(mode)})`);
  db.pragma(`synchronous = ${opts.synchronous.toUpperCase()}`);
  db.pragma('journal_size_limit = 67108864');
  db.pragma(`wal_autocheckpoint = ${Math.max(1000, Math.round(AUTOCHECKPOINT_BYTES / Number(db.pragma('page_size'))))}`);
  db.pragma('foreign_keys = OFF');
  db.pragma(`mmap_size = ${MMAP_BYTES}`);
  const version = Number(db.pragma('user_version'));
  if (version > SCHEMA_VERSION) throw new Error(`store schema version ${version} is newer than this tsk understands (${SCHEMA_VERSION})`);
  db.exec(TABLES);
  if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

const COLS = 'h.rev, h.key, h.create_rev, h.prev_rev, h.version, h.deleted, h.lease, h.value';

export function prepareStatements(db: SqlDb) {
  const s = <R = Row>(sql: string): SqlStatement<R> => db.prepare<R>(sql);
  return {
    begin: s('BEGIN IMMEDIATE'),
    commit: s('COMMIT'),
    rollback: s('ROLLBACK'),
    maxRev: s<{ rev: number | null }>('SELECT max(rev) AS rev FROM kv'),
    metaGet: s<{ value: number }>('SELECT value FROM meta WHERE name = ?'),
    metaSet: s('INSERT INTO meta(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
    latest: s(`SELECT ${COLS} FROM latest l JOIN kv h ON h.rev = l.rev WHERE l.key = ?`),
    atRev: s(`SELECT ${COLS} FROM kv h WHERE h.key = ? AND h.rev <= ? ORDER BY h.rev DESC LIMIT 1`),
    insert: s('INSERT INTO kv(rev, key, create_rev, prev_rev, version, deleted, lease, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    setLatest: s('INSERT INTO latest(key, rev, deleted) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET rev = excluded.rev, deleted = excluded.deleted'),
    listNow: s(`SELECT ${COLS} FROM latest l JOIN kv h ON h.rev = l.rev
      WHERE l.key >= @start AND l.key < @end AND l.deleted = 0 ORDER BY l.key LIMIT @limit`),
    countNow: s<{ n: number }>('SELECT count(*) AS n FROM latest WHERE key >= @start AND key < @end AND deleted = 0'),
    listAt: s(`SELECT ${COLS} FROM latest l JOIN kv h ON h.rev = (CASE WHEN l.rev <= @rev THEN l.rev
        ELSE (SELECT max(k.rev) FROM kv k WHERE k.key = l.key AND k.rev <= @rev) END)
      WHERE l.key >= @start AND l.key < @end AND h.deleted = 0 ORDER BY l.key LIMIT @limit`),
    countAt: s<{ n: number }>(`SELECT count(*) AS n FROM latest l JOIN kv h ON h.rev = (CASE WHEN l.rev <= @rev THEN l.rev
        ELSE (SELECT max(k.rev) FROM kv k WHERE k.key = l.key AND k.rev <= @rev) END)
      WHERE l.key >= @start AND l.key < @end AND h.deleted = 0`),
    events: s<EventRow>(`SELECT ${COLS}, p.rev AS p_rev, p.create_rev AS p_create_rev, p.version AS p_version,
        p.lease AS p_lease, p.value AS p_value
      FROM kv h LEFT JOIN kv p ON p.rev = h.prev_rev AND h.prev_rev != 0
      WHERE h.rev > @from AND +h.key >= @start AND +h.key < @end ORDER BY h.rev LIMIT @limit`),
    leaseGrant: s<{ id: number }>('INSERT INTO leases(ttl, expires) VALUES (?, ?) RETURNING id'),
    leaseGet: s<{ id: number; ttl: number; expires: number }>('SELECT id, ttl, expires FROM leases WHERE id = ?'),
    leaseDelete: s('DELETE FROM leases WHERE id = ?'),
    leaseExpired: s<{ id: number }>('SELECT id FROM leases WHERE expires <= ? ORDER BY expires LIMIT 100'),
    leaseNext: s<{ expires: number | null }>('SELECT min(expires) AS expires FROM leases'),
    leaseKeys: s<{ key: string }>(`SELECT h.key FROM kv h JOIN latest l ON l.key = h.key AND l.rev = h.rev
      WHERE h.lease = ? AND h.lease != 0 AND h.deleted = 0`),
    minRev: s<{ rev: number | null }>('SELECT min(rev) AS rev FROM kv'),
    compactLatest: s('DELETE FROM latest WHERE deleted = 1 AND rev <= ?'),
    compactRows: s(`DELETE FROM kv WHERE rev > @lo AND rev <= @hi
      AND (deleted = 1 OR rev < (SELECT max(k.rev) FROM kv k WHERE k.key = kv.key AND k.rev <= @upto))`),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
