// Live reload of <data-dir>/server/cred/encryption-config.json in a running server: `tsk secrets-encrypt
// enable|disable|rotate-keys` take effect without a restart. The directory is watched (fs.watch, debounced) with a
// slow stat poll as fallback; neither writes anything, so an idle node stays idle on disk. On a change the keys are
// swapped into the encrypting store (writes use the new first provider at once; every configured key stays readable)
// and every stored Secret is re-encrypted in the background with the same routine as at start.
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Store } from '../../store/types.ts';
import { logger } from '../../log/logger.ts';
import { encryptionConfigFile, readEncryptionConfig } from './config.ts';
import { encryptingStore, reencrypt } from './encrypting-store.ts';
import { transformerFor, type Transformer } from './transformer.ts';

const log = logger('server/encryption');

/** A Transformer whose implementation can be swapped; each call uses the current one. */
export interface SwappableTransformer extends Transformer {
  set(t: Transformer): void;
  current(): Transformer;
}

export function swappableTransformer(initial: Transformer): SwappableTransformer {
  let cur = initial;
  return {
    toStorage: (b, k) => cur.toStorage(b, k),
    fromStorage: (b, k) => cur.fromStorage(b, k),
    isStale: (b) => cur.isStale(b),
    set(t) {
      cur = t;
    },
    current: () => cur,
  };
}

export interface LiveEncryptionOptions {
  dataDir: string;
  /** The raw store (ciphertext on disk). */
  store: Store;
  debounceMs?: number;
  pollMs?: number;
  /** No fs.watch (tests, file systems without inotify): the poll alone. */
  noWatch?: boolean;
}

export interface LiveEncryption {
  /** The encrypting store to serve from. */
  store: Store;
  transformer: SwappableTransformer;
  /** Re-reads the config now; resolves once the keys are swapped and stored Secrets are re-encrypted. */
  reload(): Promise<void>;
  /** Resolves when no re-encryption is running or pending. */
  idle(): Promise<void>;
  close(): void;
}

const fingerprint = (file: string): string => {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'absent';
  }
};

/**
 * Reads the config, re-encrypts stored Secrets (as at start, before the API serves), and keeps following the file.
 * Throws like the start did when the config is invalid at start; later invalid edits are logged and ignored.
 */
export async function startLiveEncryption(o: LiveEncryptionOptions): Promise<LiveEncryption> {
  const file = encryptionConfigFile(o.dataDir);
  const readText = () => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  let lastText = readText();
  let lastStat = fingerprint(file);
  const transformer = swappableTransformer(transformerFor(readEncryptionConfig(o.dataDir)));
  await reencrypt(o.store, transformer);
  const store = encryptingStore(o.store, transformer);

  let closed = false;
  let running: Promise<void> = Promise.resolve();
  let pending = false;

  const apply = async (): Promise<void> => {
    const text = readText();
    if (text === lastText) return;
    let next: Transformer;
    try {
      next = transformerFor(readEncryptionConfig(o.dataDir));
    } catch (err) {
      log.error('encryption config changed but is invalid; keeping the current keys', { file, err: (err as Error).message });
      return; // lastText stays, so a fixed file is applied later
    }
    lastText = text;
    transformer.set(next);
    log.info('encryption config reloaded; re-encrypting stored secrets', { file });
    const t0 = Date.now();
    try {
      const count = await reencrypt(o.store, transformer);
      log.info('re-encryption after config change done', { count, ms: Date.now() - t0 });
    } catch (err) {
      log.error('re-encryption after config change failed; it runs again at the next change or start', { err: (err as Error).message });
    }
  };

  const reload = (): Promise<void> => {
    if (closed) return running;
    if (pending) return running;
    pending = true;
    running = running.then(() => {
      pending = false;
      return closed ? undefined : apply();
    });
    return running;
  };

  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      lastStat = fingerprint(file);
      void reload();
    }, o.debounceMs ?? 300);
    timer.unref();
  };

  let watcher: FSWatcher | undefined;
  if (!o.noWatch) {
    try {
      const name = basename(file);
      // The writer renames a .tmp file over the config: the directory sees it (a watch on the file would not).
      watcher = watch(dirname(file), { persistent: false }, (_ev, f) => {
        if (!f || f === name) schedule();
      });
      watcher.on('error', (err) => {
        log.warn('watching the encryption config failed; polling only', { err: err.message });
        watcher?.close();
        watcher = undefined;
      });
    } catch (err) {
      log.debug('cannot watch the encryption config directory; polling only', { err: (err as Error).message });
    }
  }
  const poll = setInterval(() => {
    const fp = fingerprint(file);
    if (fp !== lastStat) {
      lastStat = fp;
      schedule();
    }
  }, o.pollMs ?? 30_000);
  poll.unref();

  return {
    store,
    transformer,
    reload,
    idle: async () => {
      for (let p = running; ; p = running) {
        await p;
        if (p === running) return;
      }
    },
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(poll);
      watcher?.close();
    },
  };
}
