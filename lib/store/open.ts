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

export async function openStore(opts: OpenStoreOptions): Promise<SqliteStore> {
  const { dataDir, ...rest } = opts;
  mkdirSync(storeDir(dataDir), { recursive: true, mode: 0o700 });
  return new SqliteStore({ ...rest, path: storePath(dataDir) });
}
