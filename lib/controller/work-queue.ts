// A work queue with client-go's guarantees: a key waiting more than once is processed once (dirty set); a key being
// processed is never handed out again until done() (processing set) — an add during processing re-queues it after.
// Delayed adds and rate-limited (backoff) adds run on the injected clock. Bounded by the number of distinct keys.
import { realClock, type Clock } from '../clock.ts';
import { defaultRateLimiter, type RateLimiter } from './rate-limiter.ts';

/** Where waiting keys wait and in which order they come out; the queue keeps each key there at most once. */
export interface KeyOrder<K> {
  readonly length: number;
  push(key: K): void;
  /** The next key; only called when length > 0. */
  pop(): K;
}

/** First in, first out (the default). */
export class FifoOrder<K> implements KeyOrder<K> {
  #queue: K[] = [];
  #head = 0;

  get length(): number {
    return this.#queue.length - this.#head;
  }

  push(key: K): void {
    this.#queue.push(key);
  }

  pop(): K {
    const key = this.#queue[this.#head]!;
    this.#queue[this.#head++] = undefined as K;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return key;
  }
}

export interface WorkQueueOptions<K> {
  clock?: Clock;
  rateLimiter?: RateLimiter<K>;
  /** The order waiting keys are handed out in (default first in, first out). */
  order?: KeyOrder<K>;
}

export class WorkQueue<K = string> {
  readonly clock: Clock;
  readonly rateLimiter: RateLimiter<K>;
  readonly #order: KeyOrder<K>;
  #dirty = new Set<K>();
  #processing = new Set<K>();
  #waiters: ((k: K | undefined) => void)[] = [];
  #delayed = new Map<K, { at: number; cancel(): void }>();
  #shutDown = false;

  constructor(opts: WorkQueueOptions<K> = {}) {
    this.clock = opts.clock ?? realClock;
    this.rateLimiter = opts.rateLimiter ?? defaultRateLimiter<K>(this.clock);
    this.#order = opts.order ?? new FifoOrder<K>();
  }

  get length(): number {
    return this.#order.length;
  }

  get shuttingDown(): boolean {
    return this.#shutDown;
  }

  add(key: K): void {
    if (this.#shutDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  #push(key: K): void {
    const w = this.#waiters.shift();
    if (w) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      w(key);
      return;
    }
    this.#order.push(key);
  }

  /** Adds key after ms; an earlier pending delayed add for the same key wins. */
  addAfter(key: K, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const prev = this.#delayed.get(key);
    if (prev) {
      if (prev.at <= at) return;
      prev.cancel();
    }
    const t = this.clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, cancel: t.cancel });
  }

  addRateLimited(key: K): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  forget(key: K): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** Next key to process, or undefined once the queue is shut down. Call done(key) when finished. */
  get(): Promise<K | undefined> {
    if (this.length > 0) {
      const key = this.#order.pop();
      this.#dirty.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shutDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: K): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key) && !this.#shutDown) this.#push(key);
  }

  shutDown(): void {
    this.#shutDown = true;
    for (const d of this.#delayed.values()) d.cancel();
    this.#delayed.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }
}
