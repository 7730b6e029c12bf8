// A Store wrapper that encrypts values under the given prefixes (Secrets) on the way in and decrypts them on the
// way out, so the registry and the watch cache never see ciphertext and the database never sees plaintext.
import { ConflictError, type KeyValue, type Store, type Watch, type WatchMessage } from '../../store/types.ts';
import { logger } from '../../log/logger.ts';
import type { Transformer } from './transformer.ts';

const log = logger('server/encryption');

export const SECRETS_PREFIX = '/registry/secrets/';

export function encryptingStore(inner: Store, t: Transformer, prefixes: string[] = [SECRETS_PREFIX]): Store {
  const applies = (key: string) => prefixes.some((p) => key.startsWith(p));
  const out = (kv: KeyValue): KeyValue => (applies(kv.key) && kv.value.length ? { ...kv, value: t.fromStorage(kv.value, kv.key) } : kv);
  const maybe = (kv: KeyValue | undefined) => (kv ? out(kv) : kv);
  const into = (key: string, v: Uint8Array) => (applies(key) ? t.toStorage(v, key) : v);
  const rethrow = (err: unknown): never => {
    if (err instanceof ConflictError && err.current) throw new ConflictError(err.key, out(err.current));
    throw err;
  };
  const wrapWatch = (w: Watch): Watch => ({
    close: (reason?: string) => w.close(reason),
    get closedReason() {
      return w.closedReason;
    },
    async *[Symbol.asyncIterator](): AsyncIterator<WatchMessage> {
      for await (const m of w) {
        if ('events' in m) yield { ...m, events: m.events.map((e) => ({ ...e, kv: out(e.kv), prevKv: maybe(e.prevKv) })) };
        else yield m;
      }
    },
  });
  return {
    async get(key, opts) {
      const r = await inner.get(key, opts);
      return { ...r, kv: maybe(r.kv) };
    },
    async list(prefix, opts) {
      const r = await inner.list(prefix, opts);
      return { ...r, items: r.items.map(out) };
    },
    count: (prefix) => inner.count(prefix),
    async create(key, value, opts) {
      return out(await inner.create(key, into(key, value), opts).catch(rethrow));
    },
    async update(key, value, rev, opts) {
      return out(await inner.update(key, into(key, value), rev, opts).catch(rethrow));
    },
    async delete(key, rev) {
      return out(await inner.delete(key, rev).catch(rethrow));
    },
    watch: (prefix, from, opts) => wrapWatch(inner.watch(prefix, from, opts)),
    currentRevision: () => inner.currentRevision(),
    compactRevision: () => inner.compactRevision(),
    compact: (rev) => inner.compact(rev),
    grantLease: (ttl) => inner.grantLease(ttl),
    revokeLease: (id) => inner.revokeLease(id),
    progress: inner.progress ? () => inner.progress!() : undefined,
    close: () => inner.close(),
  };
}

/**
 * Rewrites every value under the prefixes that is not in the current write format (after enable, disable or
 * rotate-keys). Run at server start, before the API serves. Returns how many values were rewritten.
 */
export async function reencrypt(inner: Store, t: Transformer, prefixes: string[] = [SECRETS_PREFIX]): Promise<number> {
  let n = 0;
  for (const prefix of prefixes) {
    let startKey: string | undefined;
    for (;;) {
      const page = await inner.list(prefix, { limit: 500, startKey });
      for (const kv of page.items) {
        if (!t.isStale(kv.value)) continue;
        try {
          await inner.update(kv.key, t.toStorage(t.fromStorage(kv.value, kv.key), kv.key), kv.modRevision, { lease: kv.lease || undefined });
          n++;
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err; // written meanwhile, so already in the current format
        }
      }
      if (!page.more || !page.items.length) break;
      startKey = page.items[page.items.length - 1]!.key + '\x00';
    }
  }
  if (n) log.info('re-encrypted stored values', { count: n });
  return n;
}
