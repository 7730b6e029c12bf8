// A Store that times every read and write into the store-latency histogram (lib/metrics.ts).
import { timeStore } from '../metrics.ts';
import type { Store } from './types.ts';

export function instrumentStore(s: Store): Store {
  return {
    get: (key, opts) => timeStore('get', () => s.get(key, opts)),
    list: (prefix, opts) => timeStore('list', () => s.list(prefix, opts)),
    count: (prefix) => timeStore('count', () => s.count(prefix)),
    create: (key, value, opts) => timeStore('create', () => s.create(key, value, opts)),
    update: (key, value, rev, opts) => timeStore('update', () => s.update(key, value, rev, opts)),
    delete: (key, rev) => timeStore('delete', () => s.delete(key, rev)),
    watch: (prefix, from, opts) => s.watch(prefix, from, opts),
    currentRevision: () => s.currentRevision(),
    compactRevision: () => s.compactRevision(),
    compact: (rev) => timeStore('compact', () => s.compact(rev)),
    grantLease: (ttl) => s.grantLease(ttl),
    revokeLease: (id) => s.revokeLease(id),
    close: () => s.close(),
    ...(s.progress ? { progress: () => s.progress!() } : {}),
  };
}
