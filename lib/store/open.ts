// Opens the server's store: SQLite at <dataDir>/server/db/state.db (k3s keeps its kine database there too).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore, type SqliteStoreOptions } from './sqlite.ts';

export interface OpenStoreOptions extends Omit<SqliteStoreOptions, 'path'> {
  dataDir: string;
}

export function storeDir(dataDir: string): string {
  return join(dataDir, 'server', 'db');
}

export function storePath(dataDir: string): string {
  return join(storeDir(dataDir), 'state.db');
}

export function snapshotDir(dataDir: string): string {
  return join(storeDir(dataDir), 'snapshots');
}

/**
 * The server's store. An idle node writes little (docs/ARCHITECTURE.md budget: 1 KB/s): Lease renewals are deferred
 * writes (committed every 5 minutes at most), and compaction waits for 1,000 revisions or an hour.
 */
export async function openStore(opts: OpenStoreOptions): Promise<SqliteStore> {
  const { dataDir, ...rest } = opts;
  mkdirSync(storeDir(dataDir), { recursive: true, mode: 0o700 });
  return new SqliteStore({ compactMinRevisions: 1000, ...rest, path: storePath(dataDir) });
}
