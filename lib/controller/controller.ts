// The controller helper: informer events → work queue of keys → N workers calling reconcile(key). A thrown error
// requeues the key with per-key exponential backoff; success forgets the key's failures.
import type { KubeObject } from '../client/types.ts';
import { realClock, type Clock } from '../clock.ts';
import { logger } from '../log/logger.ts';
import { keyOf } from './cache.ts';
import type { EventHandler, Informer } from './informer.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { WorkQueue } from './work-queue.ts';

export interface ControllerOptions {
  name: string;
  reconcile(key: string): Promise<void>;
  workers?: number;
  clock?: Clock;
  rateLimiter?: RateLimiter<string>;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  readonly workers: number;
  readonly #reconcile: (key: string) => Promise<void>;
  readonly #log;

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.workers = opts.workers ?? 1;
    this.#reconcile = opts.reconcile;
    this.queue = new WorkQueue<string>({ clock: opts.clock ?? realClock, rateLimiter: opts.rateLimiter });
    this.#log = logger(`controller/${opts.name}`);
  }

  enqueue(objOrKey: KubeObject | string): void {
    this.queue.add(typeof objOrKey === 'string' ? objOrKey : keyOf(objOrKey));
  }

  enqueueAfter(objOrKey: KubeObject | string, ms: number): void {
    this.queue.addAfter(typeof objOrKey === 'string' ? objOrKey : keyOf(objOrKey), ms);
  }

  /** Enqueues the key of every object the informer reports (or what map returns for it). */
  watch<T extends KubeObject>(informer: Informer<T>, map?: (obj: T) => string | string[] | undefined): () => void {
    const push = (o: T) => {
      const k = map ? map(o) : keyOf(o);
      if (k === undefined) return;
      for (const x of Array.isArray(k) ? k : [k]) this.queue.add(x);
    };
    const h: EventHandler<T> = { add: push, update: (a, b) => { push(a); if (a !== b) push(b); }, delete: push };
    if (!map) h.update = (_a, b) => push(b);
    return informer.addHandler(h);
  }

  /** Processes one key now (tests). Returns the error if reconcile threw. */
  async processOne(): Promise<boolean> {
    if (this.queue.length === 0) return false;
    const key = await this.queue.get();
    if (key === undefined) return false;
    await this.#process(key);
    return true;
  }

  async #process(key: string): Promise<void> {
    try {
      await this.#reconcile(key);
      this.queue.forget(key);
    } catch (e) {
      const n = this.queue.numRequeues(key);
      const fields = { key, requeues: n, err: String((e as Error)?.message ?? e) };
      if (n > 5) this.#log.warn('reconcile failed; requeued', fields);
      else this.#log.debug('reconcile failed; requeued', fields);
      this.queue.addRateLimited(key);
    } finally {
      this.queue.done(key);
    }
  }

  /** Runs workers until signal aborts; resolves when they have all returned. */
  async run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    const worker = async () => {
      for (;;) {
        const key = await this.queue.get();
        if (key === undefined) return;
        await this.#process(key);
      }
    };
    await Promise.all(Array.from({ length: this.workers }, worker));
  }
}
