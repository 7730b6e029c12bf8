// Coalesces change notifications into syncs at most once per minimum interval; never runs two syncs at once.
import type { Clock } from '../../clock.ts';

export class SyncCoalescer {
  readonly #clock: Clock;
  readonly #minIntervalMs: number;
  readonly #sync: () => Promise<void>;
  #lastStart = -Infinity;
  #timer: { cancel(): void } | undefined;
  #running = false;
  #dirty = false;
  #idle: (() => void)[] = [];
  syncs = 0;

  constructor(opts: { clock: Clock; minIntervalMs: number; sync: () => Promise<void> }) {
    this.#clock = opts.clock;
    this.#minIntervalMs = opts.minIntervalMs;
    this.#sync = opts.sync;
  }

  /** Asks for a sync; many requests within the interval produce one. */
  request(): void {
    this.#dirty = true;
    if (this.#running || this.#timer) return;
    const wait = Math.max(0, this.#lastStart + this.#minIntervalMs - this.#clock.now());
    this.#timer = this.#clock.setTimeout(() => { this.#timer = undefined; void this.#run(); }, wait);
  }

  /** Resolves when no sync is pending or running. */
  idle(): Promise<void> {
    if (!this.#dirty && !this.#running && !this.#timer) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#dirty = false;
    this.#wake();
  }

  async #run(): Promise<void> {
    this.#running = true;
    this.#dirty = false;
    this.#lastStart = this.#clock.now();
    try {
      await this.#sync();
      this.syncs++;
    } catch {
      this.#dirty = true; // the sync logs its own error; try again after the interval
    } finally {
      this.#running = false;
    }
    if (this.#dirty) {
      this.#dirty = false;
      this.request();
    } else this.#wake();
  }

  #wake(): void {
    const w = this.#idle;
    this.#idle = [];
    for (const r of w) r();
  }
}
