// A small list+watch cache (informer-like) over the Client seam, shared by the proxy, DNS and ServiceLB.
// On any watch end or error it relists after a bounded backoff; onChange is called after each applied change.
import type { Client, KubeObject, ListQuery, ResourceRef } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';

const log = logger('agent/cache');

export interface ObjectCacheOptions {
  query?: ListQuery;
  onChange?: (type: string, obj: KubeObject | undefined) => void;
  clock?: Clock;
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class ObjectCache<T extends KubeObject = KubeObject> {
  readonly #client: Pick<Client, 'list' | 'watch'>;
  readonly #ref: ResourceRef;
  readonly #opts: ObjectCacheOptions;
  readonly #items = new Map<string, T>();
  #synced = false;
  #resolveSynced!: () => void;
  readonly synced: Promise<void>;

  constructor(client: Pick<Client, 'list' | 'watch'>, ref: ResourceRef, opts: ObjectCacheOptions = {}) {
    this.#client = client;
    this.#ref = ref;
    this.#opts = opts;
    this.synced = new Promise((r) => { this.#resolveSynced = r; });
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#items.get(`${namespace ?? ''}/${name}`);
  }

  /** Runs until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const clock = this.#opts.clock ?? realClock;
    let backoff = 500;
    while (!signal.aborted) {
      try {
        const list = await this.#client.list<T>(this.#ref, this.#opts.query);
        this.#items.clear();
        for (const o of list.items) this.#items.set(keyOf(o), o);
        if (!this.#synced) { this.#synced = true; this.#resolveSynced(); }
        this.#opts.onChange?.('SYNC', undefined);
        backoff = 500;
        // Resume the watch from the last seen version while the server lets us; relist on errors (e.g. 410 Gone).
        let rv = list.metadata.resourceVersion;
        for (let n = 0; !signal.aborted && n < 1000; n++) {
          const next = await this.#watch(rv, signal);
          if (next === undefined) break;
          if (next.events === 0) await clock.sleep(200, signal); // a watch that ends at once must not spin
          rv = next.rv;
        }
      } catch (err) {
        if (signal.aborted) break;
        log.warn('list/watch failed; relisting', { resource: this.#ref.resource, err: String(err), backoffMs: backoff });
        await clock.sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  /** Returns the last resourceVersion seen when the watch ended normally, undefined after an ERROR event. */
  async #watch(resourceVersion: string | undefined, signal: AbortSignal): Promise<{ rv: string | undefined; events: number } | undefined> {
    const w = await this.#client.watch<T>(this.#ref, { ...this.#opts.query, ...(resourceVersion ? { resourceVersion } : {}), allowWatchBookmarks: true });
    const stop = () => w.close();
    signal.addEventListener('abort', stop, { once: true });
    let rv = resourceVersion;
    let events = 0;
    try {
      for await (const ev of w) {
        events++;
        if (ev.type === 'ERROR') return undefined;
        rv = ev.object?.metadata?.resourceVersion ?? rv;
        if (ev.type === 'BOOKMARK') continue;
        if (ev.type === 'DELETED') this.#items.delete(keyOf(ev.object));
        else this.#items.set(keyOf(ev.object), ev.object);
        this.#opts.onChange?.(ev.type, ev.object);
      }
      return { rv, events };
    } finally {
      signal.removeEventListener('abort', stop);
      w.close();
    }
  }
}
