// Controller expectations (client-go's ControllerExpectations with UID tracking for deletes): after a controller
// creates or deletes children, it waits until its informer has seen those changes before deciding again, so a
// fast second reconcile does not create or delete the same replicas twice. Expectations expire after 5 minutes.
import type { Clock } from '../clock.ts';

const TTL_MS = 5 * 60_000;

export class Expectations {
  readonly clock: Clock;
  #m = new Map<string, { adds: number; dels: Set<string>; at: number }>();
  constructor(clock: Clock) {
    this.clock = clock;
  }
  /** Records that `adds` creations and the deletion of `delKeys` are on their way for owner key. */
  expect(key: string, adds: number, delKeys: string[] = []): void {
    this.#m.set(key, { adds, dels: new Set(delKeys), at: this.clock.now() });
  }
  creationObserved(key: string): void {
    const e = this.#m.get(key);
    if (e && e.adds > 0) e.adds--;
  }
  /** A creation that failed will never be observed. */
  lowerAdds(key: string, n = 1): void {
    const e = this.#m.get(key);
    if (e) e.adds = Math.max(0, e.adds - n);
  }
  deletionObserved(key: string, childKey: string): void {
    this.#m.get(key)?.dels.delete(childKey);
  }
  satisfied(key: string): boolean {
    const e = this.#m.get(key);
    if (!e) return true;
    if ((e.adds <= 0 && e.dels.size === 0) || this.clock.now() - e.at > TTL_MS) {
      this.#m.delete(key);
      return true;
    }
    return false;
  }
  delete(key: string): void {
    this.#m.delete(key);
  }
}
