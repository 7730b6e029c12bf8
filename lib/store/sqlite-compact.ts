// Compaction of the SQLite store: drop history older than the retention, in small transactions so writers get
// in between, then give the freed pages back to the file system. A failed step ("database is locked") is logged
// and retried at the next tick; it never stops compaction for good. A tick with nothing to do writes nothing.
import type { Clock } from '../clock.ts';
import { logger } from '../log/logger.ts';
import { isBusyError, type SqlDb } from './sqlite-driver.ts';
import type { Statements } from './sqlite-schema.ts';

const log = logger('store/sqlite');

export interface CompactionOptions {
  /** How often to compact (default 5 minutes; 0 disables periodic compaction). */
  compactIntervalMs?: number;
  /** History younger than this is kept (default 5 minutes). */
  compactRetentionMs?: number;
  /** Revisions removed per transaction (default 5000). */
  compactBatch?: number;
  /**
   * A periodic compaction is skipped while it would drop fewer revisions than this, unless compactMaxDelayMs has
   * passed since the last one (default 0: always compact). Spares an idle store a few hundred KB of page writes and
   * a checkpoint every period for a handful of heartbeat revisions.
   */
  compactMinRevisions?: number;
  /** Longest time compactMinRevisions may hold compaction back (default 1 hour). */
  compactMaxDelayMs?: number;
}

interface Hooks {
  current(): number;
  compacted(): number;
  setCompacted(rev: number): void;
  /** Commits the store's deferred writes, so that compaction can open its own transactions. */
  settle(): void;
}

export class Compactor {
  #db: SqlDb;
  #st: Statements;
  #clock: Clock;
  #hooks: Hooks;
  #interval: number;
  #retention: number;
  #batch: number;
  #minRevisions: number;
  #maxDelay: number;
  #lastCompaction: number;
  #samples: { t: number; rev: number }[] = [];
  /** Revisions at or below this were swept by this process. */
  #swept = 0;
  #running: Promise<void> | undefined;

  constructor(db: SqlDb, st: Statements, clock: Clock, opts: CompactionOptions, hooks: Hooks) {
    this.#db = db;
    this.#st = st;
    this.#clock = clock;
    this.#hooks = hooks;
    this.#interval = opts.compactIntervalMs ?? 5 * 60_000;
    this.#retention = opts.compactRetentionMs ?? 5 * 60_000;
    this.#batch = opts.compactBatch ?? 5000;
    this.#minRevisions = opts.compactMinRevisions ?? 0;
    this.#maxDelay = opts.compactMaxDelayMs ?? 3_600_000;
    this.#lastCompaction = clock.now();
  }

  start(every: (fn: () => Promise<void>, ms: number) => void): void {
    if (this.#interval > 0) every(() => this.tick(), this.#interval);
  }

  /** Records the current revision and compacts to the newest one recorded at least the retention ago. */
  async tick(): Promise<void> {
    const now = this.#clock.now();
    const last = this.#samples[this.#samples.length - 1];
    if (!last || last.rev !== this.#hooks.current()) this.#samples.push({ t: now, rev: this.#hooks.current() });
    const cutoff = now - this.#retention;
    while (this.#samples.length > 1 && this.#samples[1]!.t <= cutoff) this.#samples.shift();
    const oldest = this.#samples[0]!;
    const worth = oldest.rev - this.#hooks.compacted() >= this.#minRevisions || now - this.#lastCompaction >= this.#maxDelay;
    if (oldest.t <= cutoff && oldest.rev > this.#hooks.compacted() && worth) await this.compact(oldest.rev);
    else if (this.#swept < this.#hooks.compacted()) await this.#sweep();
  }

  async compact(revision: number): Promise<void> {
    if (revision > this.#hooks.compacted()) {
      try {
        this.#txn(() => {
          this.#st.metaSet.run('compact_rev', revision);
          this.#st.metaSet.run('rev', this.#hooks.current());
          this.#st.compactLatest.run(revision);
        });
      } catch (err) {
        if (!isBusyError(err)) throw err;
        log.warn('compaction postponed: database is locked', { revision });
        return;
      }
      this.#hooks.setCompacted(revision);
      this.#lastCompaction = this.#clock.now();
      log.debug('compacted', { revision });
    }
    await this.#sweep();
  }

  /** Resolves when no sweep is running. */
  async idle(): Promise<void> {
    await this.#running?.catch(() => undefined);
  }

  #txn(fn: () => void): void {
    this.#hooks.settle();
    this.#st.begin.run();
    try {
      fn();
      this.#st.commit.run();
    } catch (err) {
      if (this.#db.inTransaction) this.#st.rollback.run();
      throw err;
    }
  }

  #sweep(): Promise<void> {
    this.#running ??= (async () => {
      // A compaction requested while a sweep runs is swept right after it.
      while (this.#swept < this.#hooks.compacted() && (await this.#sweepRows()));
    })().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Removes rows up to the compaction point; false when the database was locked. */
  async #sweepRows(): Promise<boolean> {
    const upto = this.#hooks.compacted();
    const min = this.#st.minRev.get()?.rev;
    let lo = Math.max(this.#swept, (min ?? upto + 1) - 1);
    let removed = 0;
    try {
      while (lo < upto) {
        const hi = Math.min(upto, lo + this.#batch);
        this.#txn(() => (removed += this.#st.compactRows.run({ lo, hi, upto }).changes));
        this.#swept = lo = hi;
        if (lo < upto) await new Promise((r) => setImmediate(r));
      }
      this.#swept = Math.max(this.#swept, upto);
      if (removed > 0) this.#reclaim(removed);
      return true;
    } catch (err) {
      if (!isBusyError(err)) throw err;
      log.warn('compaction sweep postponed: database is locked', { upto, at: lo });
      return false;
    }
  }

  #reclaim(removed: number): void {
    this.#hooks.settle();
    const free = Number(this.#db.pragma('freelist_count'));
    if (free > 0) this.#db.exec(`PRAGMA incremental_vacuum(${free})`);
    this.#db.checkpoint();
    log.debug('compaction reclaimed space', { rows: removed, pages: free });
  }
}
