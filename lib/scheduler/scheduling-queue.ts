// The scheduler's active queue: the controller work queue (a key waiting twice is processed once, a key being
// processed is not handed out again until done(), delayed and backoff adds on the injected clock) with pod keys
// ordered by priority (higher first), then first in, first out — upstream's PrioritySort. A binary heap, so a burst
// of thousands of pods costs O(log n) per key.
import type { Clock } from '../clock.ts';
import type { RateLimiter } from '../controller/rate-limiter.ts';
import { WorkQueue, type KeyOrder } from '../controller/work-queue.ts';

interface Entry { key: string; priority: number; seq: number }

export interface SchedulingQueueOptions {
  clock?: Clock;
  rateLimiter?: RateLimiter<string>;
  /** The priority of a key's pod, read when the key enters the heap (a pod's priority never changes). */
  priority(key: string): number;
}

const before = (a: Entry, b: Entry) => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);

/** Keys by priority, higher first, then in arrival order. */
export class PriorityOrder implements KeyOrder<string> {
  readonly #priority: (key: string) => number;
  #heap: Entry[] = [];
  #seq = 0;

  constructor(priority: (key: string) => number) {
    this.#priority = priority;
  }

  get length(): number {
    return this.#heap.length;
  }

  push(key: string): void {
    const h = this.#heap;
    h.push({ key, priority: this.#priority(key), seq: this.#seq++ });
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): string {
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
}

export class SchedulingQueue extends WorkQueue<string> {
  constructor(opts: SchedulingQueueOptions) {
    super({ ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.rateLimiter ? { rateLimiter: opts.rateLimiter } : {}), order: new PriorityOrder(opts.priority) });
  }
}
