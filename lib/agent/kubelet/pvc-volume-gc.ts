// Node side of the local-path provisioner: volumes live in <data-dir>/storage/pvc-<uid>_<namespace>_<name> (the
// node advertises the directory in its tsk.io/storage-dir annotation; the kubelet creates a volume's directory when
// a pod mounts its claim). Once the PersistentVolume `pvc-<uid>` is gone (reclaim policy Delete), this sweep removes
// the directory. Only direct children of the storage directory named like that are ever touched, and only after
// the API server answered 404 for the volume (a node may `get` PersistentVolumes).
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { core, isNotFound, type Client } from '../../client/types.ts';
import { logger } from '../../log/logger.ts';

const log = logger('agent/pvc-volume-gc');

export const STORAGE_DIR_ANNOTATION = 'tsk.io/storage-dir';

/** The node's local-path storage directory (as k3s: <data-dir>/storage). */
export const storageDirOf = (dataDir: string) => join(dataDir, 'storage');

const VOLUME_DIR = /^(pvc-[0-9a-zA-Z-]+)_[^_/]+_[^/]+$/;

/** Removes volume directories whose PersistentVolume no longer exists. Returns the removed names. */
export async function gcVolumeDirs(client: Pick<Client, 'get'>, storageDir: string): Promise<string[]> {
  let entries;
  try {
    entries = readdirSync(storageDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const m = VOLUME_DIR.exec(e.name);
    if (!m || !e.isDirectory()) continue;
    try {
      await client.get(core('persistentvolumes'), m[1]!);
      continue; // the volume still exists
    } catch (err) {
      if (!isNotFound(err)) { log.debug('volume lookup failed', { volume: m[1], err: String(err) }); continue; }
    }
    rmSync(join(storageDir, e.name), { recursive: true, force: true });
    removed.push(e.name);
    log.info('removed the directory of a deleted volume', { dir: join(storageDir, e.name) });
  }
  return removed;
}

/** Sweeps every intervalMs (default 30 s) until signal aborts. */
export async function runVolumeDirGc(o: { client: Pick<Client, 'get'>; storageDir: string; signal: AbortSignal; intervalMs?: number }): Promise<void> {
  while (!o.signal.aborted) {
    await gcVolumeDirs(o.client, o.storageDir).catch((e) => log.warn('volume directory sweep failed', { err: String(e) }));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, o.intervalMs ?? 30_000);
      o.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
  }
}
