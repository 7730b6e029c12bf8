// The default Store: SQLite through better-sqlite3 (lib/store/sqlite-driver.ts), one process, one writer.
//
// - Revisions: one global counter, assigned inside the write transaction; a failed transaction gives its
//   revisions back, so committed revisions never have gaps.
// - Group commit: writes issued in the same tick are applied in one BEGIN IMMEDIATE transaction (one fsync),
//   each with its own revision and its own success or error.
// - Watch: history from the kv table, then live events through the WatchHub.
// - Deferred writes (WriteOptions.deferred, Lease renewals): applied inside a write transaction that is left open,
//   so reads, lists, history and watchers on this one connection see them at once; the transaction is committed
//   with the next ordinary write or after deferredCommitMs. A crash loses only them. The revisions they took are
//   never reused: while deferring, meta.deferring = 1 is durable and at most DEFERRED_BOUND revisions are handed out
//   past the last commit, so the next open after a crash skips DEFERRED_BOUND revisions.
// - Idle: timers only read; nothing is written unless something changed.
import { realClock, type Clock } from '../clock.ts';
import { logger } from '../log/logger.ts';
import {
  AlreadyExistsError, CompactedError, ConflictError, FutureRevisionError, LeaseNotFoundError, NotFoundError, StoreError,
  type GetResult, type KeyValue, type ListOptions, type ListResult, type Store, type Watch, type WatchEvent, type WriteOptions,
} from './types.ts';
import { openSqlite, type SqlDb } from './sqlite-driver.ts';
import { initSchema, prepareStatements, prevOf, rangeEnd, toKv, type Row, type Statements } from './sqlite-schema.ts';
import { Compactor, type CompactionOptions } from './sqlite-compact.ts';
import { WatchHub } from './watch-hub.ts';
import { holderPid, releasePidFile, writePidFile } from './pid-file.ts';

const log = logger('store/sqlite');
const EMPTY = new Uint8Array(0);
/** Most revisions deferred writes may take past the last commit; skipped at the next open after a crash. */
export const DEFERRED_BOUND = 1000;

export interface SqliteStoreOptions extends CompactionOptions {
  /** Database file (':memory:' for tests). */
  path: string;
  /** Loaded better-sqlite3 addon for the single-binary build. */
  nativeBinding?: unknown;
  clock?: Clock;
  /** Events a watcher may have queued before it is closed as too slow. */
  watchBuffer?: number;
  /** 'full' (default) fsyncs the WAL on every commit; 'normal' may lose the last commits on power loss. */
  synchronous?: 'full' | 'normal';
  /** Page size of a new database file (default NEW_PAGE_SIZE, 1 KiB); an existing file keeps its own. */
  pageSize?: number;
  busyTimeoutMs?: number;
  /**
   * Extra wait before a group commit, to gather more writes into one fsync on flash storage (default 0: commit in
   * the next event-loop turn).
   */
  commitDelayMs?: number;
  /** How often expired leases are looked for (default 1 s; in memory, SQLite is read only when one is due). */
  leaseCheckIntervalMs?: number;
  /** How often watchers that asked for progress notifications get one (default 5 s; 0 disables). */
  progressIntervalMs?: number;
  /** Write `<path>.pid` while open so that snapshot restore can refuse to run under a live server (default true). */
  pidFile?: boolean;
  /**
   * Longest time a deferred write (WriteOptions.deferred) waits uncommitted (default 5 minutes; 0: every write is
   * committed at once). Deferred writes are also committed with the next ordinary write and before compaction.
   */
  deferredCommitMs?: number;
}

type Op =
  | { kind: 'create'; key: string; value: Uint8Array; lease: number }
  | { kind: 'update'; key: string; value: Uint8Array; expected: number; lease: number; deferred: boolean }
  | { kind: 'delete'; key: string; expected: number }
  | { kind: 'grant'; ttl: number }
  | { kind: 'revoke'; id: number };

interface Pending {
  op: Op;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export class SqliteStore implements Store {
  readonly path: string;
  #db: SqlDb;
  #st: Statements;
  #clock: Clock;
  #hub: WatchHub;
  #rev: number;
  #compactRev: number;
  #queue: Pending[] = [];
  #flushScheduled = false;
  #closed = false;
  #timers: { cancel(): void }[] = [];
  #revoking = new Set<number>();
  #compactor: Compactor;
  #pidFile: boolean;
  #transactions = 0;
  #commitDelayMs: number;
  /** Earliest lease expiry (ms), so that idle lease checks need not read the database. */
  #nextExpiry = Infinity;
  #deferredCommitMs: number;
  /** Deferred writes applied in the open transaction, not committed yet. */
  #deferredPending = 0;
  /** Revisions deferred writes took since the last successful commit (at most DEFERRED_BOUND). */
  #deferredSinceCommit = 0;
  /** meta.deferring = 1 is committed: this session may hold deferred writes. */
  #deferringMarked = false;
  #deferredTimer: { cancel(): void } | undefined;
  #deferredCommits = 0;

  constructor(opts: SqliteStoreOptions) {
    this.path = opts.path;
    this.#clock = opts.clock ?? realClock;
    this.#hub = new WatchHub(opts.watchBuffer);
    this.#pidFile = opts.pidFile ?? opts.path !== ':memory:';
    // Revisions are assigned in this process's memory: a second writer process would collide with it.
    const holder = this.#pidFile ? holderPid(opts.path) : undefined;
    if (holder !== undefined && holder !== process.pid) throw new Error(`the store ${opts.path} is already open in process ${holder}`);
    try {
      this.#db = openSqlite(opts.path, { busyTimeoutMs: opts.busyTimeoutMs ?? 30_000, nativeBinding: opts.nativeBinding });
    } catch (err) {
      throw new Error('opening the store database', { cause: err });
    }
    try {
      initSchema(this.#db, { synchronous: opts.synchronous ?? 'full', pageSize: opts.pageSize });
      this.#st = prepareStatements(this.#db);
    } catch (err) {
      this.#db.close();
      throw new Error('preparing the store database', { cause: err });
    }
    this.#compactRev = this.#st.metaGet.get('compact_rev')?.value ?? 0;
    this.#rev = Math.max(this.#st.metaGet.get('rev')?.value ?? 0, this.#st.maxRev.get()?.rev ?? 0);
    this.#deferredCommitMs = opts.deferredCommitMs ?? 300_000;
    if (this.#st.metaGet.get('deferring')?.value) this.#skipLostRevisions();
    this.#compactor = new Compactor(this.#db, this.#st, this.#clock, opts, {
      current: () => this.#rev,
      compacted: () => this.#compactRev,
      setCompacted: (rev) => (this.#compactRev = rev),
      settle: () => this.#commitDeferred(),
    });
    this.#commitDelayMs = opts.commitDelayMs ?? 0;
    this.#nextExpiry = this.#st.leaseNext.get()?.expires ?? Infinity;
    if (this.#pidFile) writePidFile(opts.path);
    this.#every(opts.leaseCheckIntervalMs ?? 1000, () => this.#expireLeases());
    const progressMs = opts.progressIntervalMs ?? 5000;
    if (progressMs > 0) this.#every(progressMs, () => this.#hub.wantsProgress() && this.#hub.progress(this.#rev, true));
    this.#compactor.start((fn, ms) => this.#every(ms, fn));
    log.info('store opened', { path: opts.path, revision: this.#rev, compactRevision: this.#compactRev });
  }

  /** Runs fn every ms on the injected clock; a run still in progress makes the next one skip. */
  #every(ms: number, fn: () => unknown): void {
    const slot = this.#timers.length;
    let running = false;
    const fire = () => {
      if (this.#closed) return;
      this.#timers[slot] = this.#clock.setTimeout(fire, ms);
      if (running) return;
      running = true;
      const done = () => (running = false);
      try {
        const r = fn();
        if (r instanceof Promise) r.catch((err) => log.warn('periodic store task failed', { err: String(err) })).finally(done);
        else done();
      } catch (err) {
        done();
        log.warn('periodic store task failed', { err: String(err) });
      }
    };
    this.#timers[slot] = this.#clock.setTimeout(fire, ms);
  }

  currentRevision(): number {
    return this.#rev;
  }

  compactRevision(): number {
    return this.#compactRev;
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('store is closed');
  }

  #checkRevision(revision: number | undefined): number {
    if (!revision) return this.#rev;
    if (revision < this.#compactRev) throw new CompactedError(this.#compactRev);
    if (revision > this.#rev) throw new FutureRevisionError(revision, this.#rev);
    return revision;
  }

  async get(key: string, opts: { revision?: number } = {}): Promise<GetResult> {
    this.#checkOpen();
    const revision = this.#checkRevision(opts.revision);
    const row = revision === this.#rev ? this.#st.latest.get(key) : this.#st.atRev.get(key, revision);
    return { kv: row && !row.deleted ? toKv(row) : undefined, revision };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.#checkOpen();
    const revision = this.#checkRevision(opts.revision);
    const start = opts.startKey && opts.startKey > prefix ? opts.startKey : prefix;
    const params = { start, end: rangeEnd(prefix), limit: opts.limit && opts.limit > 0 ? opts.limit : -1, rev: revision };
    const now = revision === this.#rev;
    const rows = now ? this.#st.listNow.all(params) : this.#st.listAt.all(params);
    let count = rows.length;
    if (params.limit > 0 && rows.length === params.limit) {
      const { limit: _, ...p } = params;
      void _;
      count = (now ? this.#st.countNow.get({ start: p.start, end: p.end }) : this.#st.countAt.get(p))!.n;
    }
    return { items: rows.map(toKv), revision, count, more: rows.length < count };
  }

  async count(prefix: string): Promise<{ count: number; revision: number }> {
    this.#checkOpen();
    const n = this.#st.countNow.get({ start: prefix, end: rangeEnd(prefix) })!.n;
    return { count: n, revision: this.#rev };
  }

  create(key: string, value: Uint8Array, opts: WriteOptions = {}): Promise<KeyValue> {
    return this.#enqueue({ kind: 'create', key, value, lease: opts.lease ?? 0 });
  }

  update(key: string, value: Uint8Array, expectedModRevision: number, opts: WriteOptions = {}): Promise<KeyValue> {
    return this.#enqueue({ kind: 'update', key, value, expected: expectedModRevision, lease: opts.lease ?? 0, deferred: !!opts.deferred });
  }

  delete(key: string, expectedModRevision: number): Promise<KeyValue> {
    return this.#enqueue({ kind: 'delete', key, expected: expectedModRevision });
  }

  grantLease(ttlSeconds: number): Promise<number> {
    return this.#enqueue({ kind: 'grant', ttl: ttlSeconds });
  }

  revokeLease(id: number): Promise<void> {
    return this.#enqueue({ kind: 'revoke', id });
  }

  watch(prefix: string, fromRevision: number, opts: { progressNotify?: boolean } = {}): Watch {
    this.#checkOpen();
    if (fromRevision && fromRevision < this.#compactRev) throw new CompactedError(this.#compactRev);
    const from = fromRevision || this.#rev;
    const backlog: WatchEvent[] = [];
    if (from < this.#rev) {
      const rows = this.#st.events.all({ from, start: prefix, end: rangeEnd(prefix), limit: this.#hub.limit + 1 });
      // More history than a watcher may buffer: answer like a compacted revision, so the client relists instead of
      // re-watching from the same revision and being closed as too slow again.
      if (rows.length > this.#hub.limit) throw new CompactedError(this.#compactRev);
      for (const r of rows) {
        const prevKv = prevOf(r);
        backlog.push(r.deleted ? { type: 'delete', kv: toKv(r), prevKv } : { type: 'put', kv: toKv(r), prevKv });
      }
    }
    return this.#hub.add(prefix, from, backlog, opts);
  }

  progress(): void {
    this.#hub.progress(this.#rev);
  }

  async compact(revision: number): Promise<void> {
    this.#checkOpen();
    if (revision > this.#rev) throw new FutureRevisionError(revision, this.#rev);
    await this.#compactor.compact(revision);
  }

  /**
   * Counters for tests and benchmarks: committed write transactions (each one fsync), of which `deferredCommits`
   * committed only deferred writes (timer, compaction); `deferredPending` deferred writes are not committed yet.
   */
  stats(): { transactions: number; revision: number; compactRevision: number; watchers: number; deferredPending: number; deferredCommits: number } {
    return {
      transactions: this.#transactions, revision: this.#rev, compactRevision: this.#compactRev, watchers: this.#hub.size,
      deferredPending: this.#deferredPending, deferredCommits: this.#deferredCommits,
    };
  }

  /** Commits the deferred writes now (tests, snapshots). */
  commitDeferred(): void {
    this.#commitDeferred();
  }

  /** Runs one periodic compaction step now (tests, benchmarks). */
  async compactNow(): Promise<void> {
    await this.#compactor.tick();
  }

  // ---- writes ----

  #enqueue<T>(op: Op): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreError('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        if (this.#commitDelayMs > 0) setTimeout(() => this.#flush(), this.#commitDelayMs);
        else setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (!batch.length) return;
    const deferrable = this.#deferredCommitMs > 0 && batch.every((p) => p.op.kind === 'update' && p.op.deferred);
    // The first deferred write of a session is committed with meta.deferring = 1; later ones may stay uncommitted.
    const mark = deferrable && !this.#deferringMarked;
    const defer = deferrable && !mark && this.#deferredSinceCommit + batch.length <= DEFERRED_BOUND;
    const startRev = this.#rev;
    const events: WatchEvent[] = [];
    const results: { ok: boolean; v: unknown }[] = [];
    try {
      if (!this.#db.inTransaction) this.#st.begin.run();
      for (const p of batch) {
        try {
          results.push({ ok: true, v: this.#apply(p.op, events) });
        } catch (err) {
          if (!(err instanceof StoreError)) throw err;
          results.push({ ok: false, v: err });
        }
      }
      if (mark) this.#st.metaSet.run('deferring', 1);
      if (!defer) this.#commit();
    } catch (err) {
      this.#abort();
      // Revisions up to startRev may have reached watchers (deferred writes): they stay used.
      this.#rev = startRev;
      log.error('store write transaction failed', { err: String(err), writes: batch.length });
      const failure = new Error('store write failed', { cause: err });
      for (const p of batch) p.reject(failure);
      return;
    }
    if (mark) this.#deferringMarked = true;
    if (defer) this.#deferred(this.#rev - startRev);
    try {
      if (events.length) this.#hub.publish(events, this.#rev);
    } catch (err) {
      log.error('publishing watch events failed', { err: String(err) });
    }
    batch.forEach((p, i) => (results[i]!.ok ? p.resolve(results[i]!.v) : p.reject(results[i]!.v)));
  }

  /** Commits the open transaction (ordinary and deferred writes); throws when the commit fails. */
  #commit(): void {
    this.#st.commit.run();
    this.#transactions++;
    this.#deferredPending = 0;
    this.#deferredSinceCommit = 0;
    this.#deferredTimer?.cancel();
    this.#deferredTimer = undefined;
  }

  /** Rolls the open transaction back; deferred writes in it are lost (their revisions stay used). */
  #abort(): void {
    if (this.#db.inTransaction) {
      try {
        this.#st.rollback.run();
      } catch (e) {
        log.error('rollback failed', { err: String(e) });
      }
    }
    if (this.#deferredPending) log.warn('deferred writes lost', { writes: this.#deferredPending });
    this.#deferredPending = 0;
    this.#deferredTimer?.cancel();
    this.#deferredTimer = undefined;
  }

  /** Leaves n deferred revisions uncommitted, to be committed within deferredCommitMs. */
  #deferred(n: number): void {
    this.#deferredPending += n;
    this.#deferredSinceCommit += n;
    if (!this.#db.inTransaction) return;
    this.#deferredTimer ??= this.#clock.setTimeout(() => {
      this.#deferredTimer = undefined;
      this.#commitDeferred();
    }, this.#deferredCommitMs);
  }

  /** Commits an open transaction of deferred writes (before compaction, at close, on the timer). */
  #commitDeferred(): void {
    if (!this.#db.inTransaction) return;
    try {
      this.#commit();
      this.#deferredCommits++;
    } catch (err) {
      log.error('committing deferred writes failed', { err: String(err) });
      this.#abort();
    }
  }

  /**
   * The last session crashed while it may have held deferred writes: their revisions may have reached clients, so
   * start past every revision it could have handed out, durably.
   */
  #skipLostRevisions(): void {
    const from = this.#rev;
    this.#rev += DEFERRED_BOUND;
    this.#st.begin.run();
    try {
      this.#st.metaSet.run('rev', this.#rev);
      this.#st.metaSet.run('deferring', 0);
      this.#st.commit.run();
    } catch (err) {
      this.#st.rollback.run();
      throw err;
    }
    log.warn('the store was not closed cleanly while deferring writes: skipping revisions', { from, to: this.#rev });
  }

  #apply(op: Op, events: WatchEvent[]): unknown {
    switch (op.kind) {
      case 'create': {
        const prev = this.#st.latest.get(op.key);
        if (prev && !prev.deleted) throw new AlreadyExistsError(op.key);
        this.#checkLease(op.lease);
        return this.#put(op.key, op.value, op.lease, undefined, events);
      }
      case 'update': {
        const prev = this.#st.latest.get(op.key);
        const live = prev && !prev.deleted ? prev : undefined;
        if (!live) throw op.expected ? new ConflictError(op.key, undefined) : new NotFoundError(op.key);
        if (op.expected && live.rev !== op.expected) throw new ConflictError(op.key, toKv(live));
        this.#checkLease(op.lease);
        return this.#put(op.key, op.value, op.lease, live, events);
      }
      case 'delete': {
        const prev = this.#st.latest.get(op.key);
        const live = prev && !prev.deleted ? prev : undefined;
        if (!live) throw new NotFoundError(op.key);
        if (op.expected && live.rev !== op.expected) throw new ConflictError(op.key, toKv(live));
        return this.#remove(live, events);
      }
      case 'grant': {
        if (!(op.ttl > 0)) throw new StoreError(`lease TTL must be positive, got ${op.ttl}`);
        const expires = this.#clock.now() + op.ttl * 1000;
        this.#nextExpiry = Math.min(this.#nextExpiry, expires);
        return this.#st.leaseGrant.get(op.ttl, expires)!.id;
      }
      case 'revoke': {
        this.#revoking.delete(op.id);
        if (!this.#st.leaseGet.get(op.id)) return undefined;
        for (const { key } of this.#st.leaseKeys.all(op.id)) this.#remove(this.#st.latest.get(key)!, events);
        this.#st.leaseDelete.run(op.id);
        return undefined;
      }
    }
  }

  #checkLease(lease: number): void {
    if (lease && !this.#st.leaseGet.get(lease)) throw new LeaseNotFoundError(lease);
  }

  #put(key: string, value: Uint8Array, lease: number, live: Row | undefined, events: WatchEvent[]): KeyValue {
    const rev = ++this.#rev;
    const createRev = live ? live.create_rev : rev;
    const version = live ? live.version + 1 : 1;
    this.#st.insert.run(rev, key, createRev, live?.rev ?? 0, version, 0, lease, value);
    this.#st.setLatest.run(key, rev, 0);
    const kv: KeyValue = { key, value, createRevision: createRev, modRevision: rev, version, lease };
    events.push({ type: 'put', kv, prevKv: live ? toKv(live) : undefined });
    return kv;
  }

  #remove(live: Row, events: WatchEvent[]): KeyValue {
    const rev = ++this.#rev;
    this.#st.insert.run(rev, live.key, live.create_rev, live.rev, 0, 1, 0, EMPTY);
    this.#st.setLatest.run(live.key, rev, 1);
    const prevKv = toKv(live);
    const tomb: KeyValue = { key: live.key, value: EMPTY, createRevision: live.create_rev, modRevision: rev, version: 0, lease: 0 };
    events.push({ type: 'delete', kv: tomb, prevKv });
    return { ...prevKv, modRevision: rev };
  }

  #expireLeases(): void {
    const now = this.#clock.now();
    if (now < this.#nextExpiry) return;
    this.#nextExpiry = this.#st.leaseNext.get()?.expires ?? Infinity;
    if (now < this.#nextExpiry) return;
    // Re-check after the revocations below have committed.
    this.#nextExpiry = now;
    for (const { id } of this.#st.leaseExpired.all(now)) {
      if (this.#revoking.has(id)) continue;
      this.#revoking.add(id);
      log.debug('lease expired', { lease: id });
      this.revokeLease(id).catch((err) => {
        this.#revoking.delete(id);
        log.warn('revoking an expired lease failed', { lease: id, err: String(err) });
      });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Let writes already issued finish first.
    while (this.#queue.length || this.#flushScheduled) await new Promise((r) => setImmediate(r));
    await this.#compactor.idle();
    this.#closed = true;
    for (const t of this.#timers) t?.cancel();
    if (this.#deferringMarked) {
      // A clean close: everything deferred is committed, so the next open needs to skip nothing.
      try {
        if (!this.#db.inTransaction) this.#st.begin.run();
        this.#st.metaSet.run('rev', this.#rev);
        this.#st.metaSet.run('deferring', 0);
        this.#commit();
      } catch (err) {
        log.error('committing deferred writes at close failed', { err: String(err) });
        this.#abort();
      }
    }
    this.#hub.closeAll('store closed');
    try {
      this.#db.checkpoint();
    } catch (err) {
      log.warn('checkpoint at close failed', { err: String(err) });
    }
    this.#db.close();
    if (this.#pidFile) releasePidFile(this.path);
  }
}
