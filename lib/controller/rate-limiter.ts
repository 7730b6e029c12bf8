// Rate limiters for the work queue: per-key exponential backoff (5 ms doubling up to 1000 s, as client-go's
// default controller limiter) combined with an overall token bucket (10 qps, burst 100) — the longer delay wins.
import type { Clock } from '../clock.ts';

export interface RateLimiter<K> {
  /** Delay in ms before key may be processed again; counts one more failure for key. */
  when(key: K): number;
  forget(key: K): void;
  numRequeues(key: K): number;
}

export class ExponentialBackoff<K> implements RateLimiter<K> {
  readonly baseMs: number;
  readonly maxMs: number;
  #failures = new Map<K, number>();
  constructor(baseMs = 5, maxMs = 1_000_000) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }
  when(key: K): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(n, 40));
  }
  forget(key: K): void {
    this.#failures.delete(key);
  }
  numRequeues(key: K): number {
    return this.#failures.get(key) ?? 0;
  }
}

/** Overall token bucket: every `when` takes a token; without one the caller waits for the next refill. */
export class TokenBucket<K> implements RateLimiter<K> {
  readonly qps: number;
  readonly burst: number;
  readonly clock: Clock;
  #tokens: number;
  #last: number;
  constructor(qps: number, burst: number, clock: Clock) {
    this.qps = qps;
    this.burst = burst;
    this.clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }
  when(_key: K): number {
    const now = this.clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.qps);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.qps) * 1000);
  }
  forget(_key: K): void {}
  numRequeues(_key: K): number {
    return 0;
  }
}

export class MaxOf<K> implements RateLimiter<K> {
  readonly limiters: RateLimiter<K>[];
  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }
  when(key: K): number {
    return Math.max(0, ...this.limiters.map((l) => l.when(key)));
  }
  forget(key: K): void {
    for (const l of this.limiters) l.forget(key);
  }
  numRequeues(key: K): number {
    return Math.max(0, ...this.limiters.map((l) => l.numRequeues(key)));
  }
}

export const defaultRateLimiter = <K>(clock: Clock): RateLimiter<K> =>
  new MaxOf<K>(new ExponentialBackoff<K>(5, 1_000_000), new TokenBucket<K>(10, 100, clock));
