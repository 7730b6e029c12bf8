// Informer: list + watch one resource into a frozen cache and tell handlers about adds, updates and deletes.
// Relists when the watch answers 410 Gone (or any ERROR event / failed watch call); re-watches from the last seen
// resourceVersion when the server simply closes the watch; optional periodic resync replays update(old=cur) for
// every cached object so controllers can correct drift (their reconcile must not write when nothing changed).
import { ApiError, type Client, type ClientWatch, type KubeObject, type ResourceRef } from '../client/types.ts';
import { realClock, type Clock } from '../clock.ts';
import { logger } from '../log/logger.ts';
import { Cache, keyOf, type IndexFunc, type Lister } from './cache.ts';

const log = logger('controller/informer');

export interface EventHandler<T extends KubeObject = KubeObject> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  client: Pick<Client, 'list' | 'watch'>;
  ref: ResourceRef;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Replays every cached object to update handlers this often; 0 disables (default). */
  resyncMs?: number;
  clock?: Clock;
}

const is410 = (e: unknown) => e instanceof ApiError && e.code === 410;

export class Informer<T extends KubeObject = KubeObject> {
  readonly ref: ResourceRef;
  readonly cache = new Cache<T>();
  readonly opts: InformerOptions;
  readonly clock: Clock;
  #handlers: EventHandler<T>[] = [];
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #started = false;
  #resourceVersion = '';
  /** Counts lists for tests and metrics. */
  listCount = 0;

  constructor(opts: InformerOptions) {
    this.opts = opts;
    this.ref = opts.ref;
    this.clock = opts.clock ?? realClock;
  }

  get lister(): Lister<T> {
    return this.cache;
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  get lastResourceVersion(): string {
    return this.#resourceVersion;
  }

  addIndexer(name: string, fn: IndexFunc): this {
    this.cache.addIndexer(name, fn);
    return this;
  }

  /** Registers handlers; when added after sync, replays current objects as adds (like client-go). */
  addHandler(h: EventHandler<T>): () => void {
    this.#handlers.push(h);
    if (this.#synced) for (const o of this.cache.all()) this.#call(h, 'add', o);
    return () => { this.#handlers = this.#handlers.filter((x) => x !== h); };
  }

  /** Resolves once the first list is in the cache (or when signal aborts). */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.#syncWaiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** Runs until signal aborts. Safe to call once; later calls return immediately. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const resync = this.opts.resyncMs ? this.#scheduleResync(signal) : undefined;
    let needList = true;
    let errDelay = 100;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#list();
          needList = false;
          errDelay = 100;
        }
        const got = await this.#watchOnce(signal);
        if (got === 'relist') needList = true;
        else if (got === 'empty' && !signal.aborted) {
          // A watch that ends at once without events: do not spin.
          await this.clock.sleep(errDelay, signal);
          errDelay = Math.min(errDelay * 2, 30_000);
        } else errDelay = 100;
      } catch (e) {
        if (signal.aborted) break;
        needList = true;
        if (is410(e)) continue;
        if (e instanceof ApiError && e.code === 404) {
          // Resource not served (yet): count as synced and empty so waiters go on; keep trying slowly.
          this.#replace([]);
          this.#markSynced();
          log.debug('resource not served; retrying', { resource: this.ref.resource });
          await this.clock.sleep(Math.max(errDelay, 10_000), signal);
          errDelay = Math.min(errDelay * 2, 60_000);
          continue;
        }
        log.warn('list/watch failed; retrying', { resource: this.ref.resource, delayMs: errDelay, err: String(e) });
        await this.clock.sleep(errDelay, signal);
        errDelay = Math.min(errDelay * 2, 30_000);
      }
    }
    resync?.cancel();
  }

  async #list(): Promise<void> {
    const { client, ref, namespace, labelSelector, fieldSelector } = this.opts;
    const l = await client.list<T>(ref, { namespace, labelSelector, fieldSelector });
    this.listCount++;
    this.#replace(l.items);
    this.#resourceVersion = l.metadata.resourceVersion ?? '';
    this.#markSynced();
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  async #watchOnce(signal: AbortSignal): Promise<'relist' | 'closed' | 'empty'> {
    const { client, ref, namespace, labelSelector, fieldSelector } = this.opts;
    const w: ClientWatch<T> = await client.watch<T>(ref, {
      namespace, labelSelector, fieldSelector, resourceVersion: this.#resourceVersion, allowWatchBookmarks: true,
    });
    const onAbort = () => w.close();
    signal.addEventListener('abort', onAbort, { once: true });
    let events = 0;
    try {
      for await (const e of w) {
        events++;
        if (e.type === 'ERROR') {
          const code = (e.object as { code?: number }).code;
          log.debug('watch error; relisting', { resource: ref.resource, code });
          return 'relist';
        }
        const rv = e.object.metadata?.resourceVersion;
        if (rv) this.#resourceVersion = rv;
        if (e.type === 'BOOKMARK') continue;
        if (e.type === 'DELETED') this.#delete(keyOf(e.object));
        else this.#upsert(e.object);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      w.close();
    }
    return events ? 'closed' : 'empty';
  }

  #replace(items: T[]): void {
    const seen = new Set<string>();
    for (const o of items) {
      seen.add(keyOf(o));
      this.#upsert(o);
    }
    for (const k of this.cache.keys()) if (!seen.has(k)) this.#delete(k);
  }

  #upsert(received: T): void {
    const obj = withoutManagedFields(received);
    const old = this.cache.getByKey(keyOf(obj));
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion && old.metadata.uid === obj.metadata.uid) return;
    this.cache.put(obj);
    for (const h of this.#handlers) old ? this.#call(h, 'update', old, obj) : this.#call(h, 'add', obj);
  }

  #delete(key: string): void {
    const old = this.cache.remove(key);
    if (old) for (const h of this.#handlers) this.#call(h, 'delete', old);
  }

  #call(h: EventHandler<T>, kind: 'add' | 'update' | 'delete', a: T, b?: T): void {
    try {
      if (kind === 'add') h.add?.(a);
      else if (kind === 'update') h.update?.(a, b!);
      else h.delete?.(a);
    } catch (e) {
      log.error('event handler threw', { resource: this.ref.resource, kind, err: String(e) });
    }
  }

  #scheduleResync(signal: AbortSignal): { cancel(): void } {
    let t: { cancel(): void } | undefined;
    const tick = () => {
      if (signal.aborted) return;
      if (this.#synced) for (const o of this.cache.all()) for (const h of this.#handlers) this.#call(h, 'update', o, o);
      t = this.clock.setTimeout(tick, this.opts.resyncMs!);
    };
    t = this.clock.setTimeout(tick, this.opts.resyncMs!);
    return { cancel: () => t?.cancel() };
  }
}

/**
 * Controllers never read metadata.managedFields, so informers drop them, as kube-scheduler and
 * kube-controller-manager do with their informer transform: a pod's entries are about as large as the rest of it.
 * An update sent without managedFields keeps the stored ones.
 */
function withoutManagedFields<T extends KubeObject>(o: T): T {
  if (!o.metadata?.managedFields) return o;
  const { managedFields: _dropped, ...metadata } = o.metadata;
  return { ...o, metadata } as T;
}
