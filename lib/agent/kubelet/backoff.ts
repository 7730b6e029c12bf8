// Restart and image-pull backoff per key: 10 s doubling to 5 min, forgotten after it stays quiet for twice the cap.
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  #entries = new Map<string, { delayMs: number; lastUpdate: number }>();

  constructor(initialMs = 10_000, maxMs = 300_000) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
  }

  /** Records one more failure at now and returns the delay until the next attempt. */
  next(key: string, now: number): number {
    const e = this.#entries.get(key);
    const delayMs = !e || now - e.lastUpdate > 2 * this.maxMs ? this.initialMs : Math.min(e.delayMs * 2, this.maxMs);
    this.#entries.set(key, { delayMs, lastUpdate: now });
    return delayMs;
  }

  /** True when the current delay, counted from since (e.g. the container's exit), has not run out at now. */
  inBackoffSince(key: string, since: number, now: number): boolean {
    const e = this.#entries.get(key);
    if (!e) return false;
    if (now - e.lastUpdate > 2 * this.maxMs) return false;
    return now - since < e.delayMs;
  }

  delay(key: string): number | undefined { return this.#entries.get(key)?.delayMs; }
  reset(key: string): void { this.#entries.delete(key); }
  /** Drops every key starting with prefix (a pod's keys when the pod goes away). */
  resetPrefix(prefix: string): void { for (const k of this.#entries.keys()) if (k.startsWith(prefix)) this.#entries.delete(k); }
}
