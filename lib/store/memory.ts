// In-memory Store: the reference implementation for tests and the shared conformance suite.
import { realClock, type Clock } from '../clock.ts';
import {
  AlreadyExistsError, CompactedError, ConflictError, FutureRevisionError, LeaseNotFoundError, NotFoundError, StoreError,
  type GetResult, type KeyValue, type ListOptions, type ListResult, type Store, type Watch, type WatchEvent, type WriteOptions,
} from './types.ts';
import { WatchHub } from './watch-hub.ts';

interface Row {
  kv: KeyValue;
  deleted: boolean;
  prev?: KeyValue;
}

export class MemoryStore implements Store {
  #rev = 0;
  #compacted = 0;
  #history: Row[] = []; // ordered by revision
  #latest = new Map<string, Row>();
  #hub: WatchHub;
  #leases = new Map<number, { expires: number; keys: Set<string> }>();
  #leaseSeq = 0;
  #timer: { cancel(): void } | undefined;
  #clock: Clock;
  #closed = false;

  constructor(opts: { watchBuffer?: number; clock?: Clock; leaseCheckIntervalMs?: number } = {}) {
    this.#hub = new WatchHub(opts.watchBuffer);
    this.#clock = opts.clock ?? realClock;
    const every = opts.leaseCheckIntervalMs ?? 1000;
    const arm = () => {
      this.#timer = this.#clock.setTimeout(() => {
        if (this.#closed) return;
        void this.#expireLeases().finally(arm);
      }, every);
    };
    arm();
  }

  currentRevision(): number {
    return this.#rev;
  }
  compactRevision(): number {
    return this.#compacted;
  }

  #at(key: string, revision: number): Row | undefined {
    if (!revision || revision >= this.#rev) return this.#latest.get(key);
    let found: Row | undefined;
    for (const r of this.#history) {
      if (r.kv.modRevision > revision) break;
      if (r.kv.key === key) found = r;
    }
    return found;
  }

  #checkRevision(revision?: number): void {
    if (revision && revision < this.#compacted) throw new CompactedError(this.#compacted);
    if (revision && revision > this.#rev) throw new FutureRevisionError(revision, this.#rev);
  }

  async get(key: string, opts: { revision?: number } = {}): Promise<GetResult> {
    this.#checkRevision(opts.revision);
    const row = this.#at(key, opts.revision ?? 0);
    return { kv: row && !row.deleted ? row.kv : undefined, revision: opts.revision || this.#rev };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.#checkRevision(opts.revision);
    const revision = opts.revision || this.#rev;
    const start = opts.startKey && opts.startKey > prefix ? opts.startKey : prefix;
    const keys = new Set<string>();
    for (const k of this.#latest.keys()) if (k.startsWith(prefix) && k >= start) keys.add(k);
    if (revision < this.#rev) for (const r of this.#history) if (r.kv.modRevision <= revision && r.kv.key.startsWith(prefix) && r.kv.key >= start) keys.add(r.kv.key);
    const live: KeyValue[] = [];
    for (const k of [...keys].sort()) {
      const row = revision >= this.#rev ? this.#latest.get(k) : this.#at(k, revision);
      if (row && !row.deleted) live.push(row.kv);
    }
    const items = opts.limit ? live.slice(0, opts.limit) : live;
    return { items, revision, count: live.length, more: items.length < live.length };
  }

  async count(prefix: string) {
    let count = 0;
    for (const [k, r] of this.#latest) if (k.startsWith(prefix) && !r.deleted) count++;
    return { count, revision: this.#rev };
  }

  #commit(key: string, value: Uint8Array, deleted: boolean, prev: Row | undefined, lease = 0): KeyValue {
    const rev = ++this.#rev;
    const live = prev && !prev.deleted ? prev.kv : undefined;
    const kv: KeyValue = {
      key, value: deleted ? new Uint8Array(0) : value, modRevision: rev, lease: deleted ? 0 : lease,
      createRevision: deleted ? (live?.createRevision ?? rev) : (live ? live.createRevision : rev),
      version: deleted ? 0 : (live ? live.version + 1 : 1),
    };
    const row: Row = { kv, deleted, prev: live };
    this.#history.push(row);
    this.#latest.set(key, row);
    if (live?.lease && live.lease !== lease) this.#leases.get(live.lease)?.keys.delete(key);
    if (lease && !deleted) this.#leases.get(lease)?.keys.add(key);
    const event: WatchEvent = deleted ? { type: 'delete', kv, prevKv: live } : { type: 'put', kv, prevKv: live };
    this.#hub.publish([event], rev);
    return kv;
  }

  #checkLease(lease?: number): void {
    if (lease && !this.#leases.has(lease)) throw new LeaseNotFoundError(lease);
  }

  async create(key: string, value: Uint8Array, opts: WriteOptions = {}): Promise<KeyValue> {
    const prev = this.#latest.get(key);
    if (prev && !prev.deleted) throw new AlreadyExistsError(key);
    this.#checkLease(opts.lease);
    return this.#commit(key, value, false, prev, opts.lease);
  }

  async update(key: string, value: Uint8Array, expected: number, opts: WriteOptions = {}): Promise<KeyValue> {
    const prev = this.#latest.get(key);
    if (!prev || prev.deleted) {
      if (expected) throw new ConflictError(key, undefined);
      throw new NotFoundError(key);
    }
    if (expected && prev.kv.modRevision !== expected) throw new ConflictError(key, prev.kv);
    this.#checkLease(opts.lease);
    return this.#commit(key, value, false, prev, opts.lease);
  }

  async delete(key: string, expected: number): Promise<KeyValue> {
    const prev = this.#latest.get(key);
    if (!prev || prev.deleted) throw new NotFoundError(key);
    if (expected && prev.kv.modRevision !== expected) throw new ConflictError(key, prev.kv);
    const tomb = this.#commit(key, prev.kv.value, true, prev);
    return { ...prev.kv, modRevision: tomb.modRevision };
  }

  watch(prefix: string, fromRevision: number, opts: { progressNotify?: boolean } = {}): Watch {
    if (fromRevision && fromRevision < this.#compacted) throw new CompactedError(this.#compacted);
    const from = fromRevision || this.#rev;
    const backlog: WatchEvent[] = [];
    for (const r of this.#history) {
      if (r.kv.modRevision <= from || !r.kv.key.startsWith(prefix)) continue;
      backlog.push(r.deleted ? { type: 'delete', kv: r.kv, prevKv: r.prev } : { type: 'put', kv: r.kv, prevKv: r.prev });
    }
    // More history than a watcher may buffer: answer like a compacted revision, so the client relists.
    if (backlog.length > this.#hub.limit) throw new CompactedError(this.#compacted);
    return this.#hub.add(prefix, from, backlog, opts);
  }

  /** Sends a progress notification with the current revision to every watcher. */
  progress(): void {
    this.#hub.progress(this.#rev);
  }

  async compact(revision: number): Promise<void> {
    if (revision <= this.#compacted) return;
    if (revision > this.#rev) throw new FutureRevisionError(revision, this.#rev);
    // Keep every row after the compaction point and, per key, the newest live row at or before it.
    const newestBefore = new Map<string, Row>();
    for (const r of this.#history) if (r.kv.modRevision <= revision) newestBefore.set(r.kv.key, r);
    const keep: Row[] = [];
    for (const r of this.#history) {
      if (r.kv.modRevision > revision || (newestBefore.get(r.kv.key) === r && !r.deleted)) keep.push(r);
    }
    for (const [k, r] of this.#latest) if (r.deleted && r.kv.modRevision <= revision) this.#latest.delete(k);
    this.#history = keep;
    this.#compacted = revision;
  }

  async grantLease(ttlSeconds: number): Promise<number> {
    if (!(ttlSeconds > 0)) throw new StoreError(`lease TTL must be positive, got ${ttlSeconds}`);
    const id = ++this.#leaseSeq;
    this.#leases.set(id, { expires: this.#clock.now() + ttlSeconds * 1000, keys: new Set() });
    return id;
  }

  async revokeLease(id: number): Promise<void> {
    const lease = this.#leases.get(id);
    if (!lease) return;
    this.#leases.delete(id);
    for (const key of lease.keys) {
      const row = this.#latest.get(key);
      if (row && !row.deleted && row.kv.lease === id) await this.delete(key, 0);
    }
  }

  async #expireLeases(): Promise<void> {
    const now = this.#clock.now();
    for (const [id, l] of this.#leases) if (l.expires <= now) await this.revokeLease(id);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#timer?.cancel();
    this.#hub.closeAll('store closed');
  }
}
