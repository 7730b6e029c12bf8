// Shares store leases between objects with a TTL (events): one lease per minute of creations, up to 1000 objects,
// as the Kubernetes apiserver's lease manager does, so TTLs cost few lease rows.
import type { Clock } from '../../clock.ts';
import type { Store } from '../../store/types.ts';

const REUSE_MS = 60_000;
const MAX_OBJECTS = 1000;

export class LeasePool {
  #store: Pick<Store, 'grantLease'>;
  #clock: Clock;
  #current = new Map<number, { id: number; granted: number; uses: number }>();
  constructor(store: Pick<Store, 'grantLease'>, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** A lease that expires no sooner than ttlSeconds from now (and at most a minute later). */
  async lease(ttlSeconds: number): Promise<number> {
    const now = this.#clock.now();
    const cur = this.#current.get(ttlSeconds);
    if (cur && now - cur.granted < REUSE_MS && cur.uses < MAX_OBJECTS) {
      cur.uses++;
      return cur.id;
    }
    const id = await this.#store.grantLease(ttlSeconds + REUSE_MS / 1000);
    this.#current.set(ttlSeconds, { id, granted: now, uses: 1 });
    return id;
  }

  forget(id: number): void {
    for (const [ttl, l] of this.#current) if (l.id === id) this.#current.delete(ttl);
  }
}
