// The scheduler's active queue: pod keys ordered by priority (higher first), then first in, first out — upstream's
// PrioritySort. Otherwise the work queue's guarantees: a key waiting twice is processed once, a key being processed
// is not handed out again until done(); delayed and backoff adds run on the injected clock. A binary heap, so a
// burst of thousands of pods costs O(log n) per key.
import { realClock, type Clock } from '../clock.ts';
import { defaultRateLimiter, type RateLimiter } from '../controller/rate-limiter.ts';

interface Entry { key: string; priority: number; seq: number }

export interface SchedulingQueueOptions {
  clock?: Clock;
  rateLimiter?: RateLimiter<string>;
  /** The priority of a key's pod, read when the key enters the heap (a pod's priority never changes). */
  priority(key: string): number;
}

const before = (a: Entry, b: Entry) => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);

export class SchedulingQueue {
  readonly clock: Clock;
  readonly rateLimiter: RateLimiter<string>;
  readonly #priority: (key: string) => number;
  #heap: Entry[] = [];
  #seq = 0;
  #dirty = new Set<string>();
  #processing = new Set<string>();
  #waiters: ((k: string | undefined) => void)[] = [];
  #delayed = new Map<string, { at: number; cancel(): void }>();
  #shutDown = false;

  constructor(opts: SchedulingQueueOptions) {
    this.clock = opts.clock ?? realClock;
    this.rateLimiter = opts.rateLimiter ?? defaultRateLimiter<string>(this.clock);
    this.#priority = opts.priority;
  }

  get length(): number {
    return this.#heap.length;
  }

  add(key: string): void {
    if (this.#shutDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (!this.#processing.has(key)) this.#push(key);
  }

  #push(key: string): void {
    const w = this.#waiters.shift();
    if (w) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      w(key);
      return;
    }
    const h = this.#heap;
    h.push({ key, priority: this.#priority(key), seq: this.#seq++ });
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  #pop(): string {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top.key;
  }

  /** Adds key after ms; an earlier pending delayed add for the same key wins. */
  addAfter(key: string, ms: number): void {
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

  addRateLimited(key: string): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  /** The most important waiting key, or undefined once shut down. Call done(key) when finished. */
  get(): Promise<string | undefined> {
    if (this.#heap.length) {
      const key = this.#pop();
      this.#dirty.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shutDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
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
