// One informer per (resource, namespace, selectors) shared by every controller in the process.
import type { Client, KubeObject, ResourceRef } from '../client/types.ts';
import { realClock, type Clock } from '../clock.ts';
import { Informer } from './informer.ts';

export interface InformerFactoryOptions {
  client: Pick<Client, 'list' | 'watch'>;
  clock?: Clock;
  /** Default resync period for informers made here; 0 disables. */
  resyncMs?: number;
}

export interface InformerQuery {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export class SharedInformerFactory {
  readonly opts: InformerFactoryOptions;
  readonly clock: Clock;
  #informers = new Map<string, Informer>();
  #signal: AbortSignal | undefined;
  #runs: Promise<void>[] = [];

  constructor(opts: InformerFactoryOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
  }

  informer<T extends KubeObject = KubeObject>(ref: ResourceRef, q: InformerQuery = {}): Informer<T> {
    const key = `${ref.group}/${ref.version}/${ref.resource}?${q.namespace ?? ''}&${q.labelSelector ?? ''}&${q.fieldSelector ?? ''}`;
    let inf = this.#informers.get(key);
    if (!inf) {
      inf = new Informer({ client: this.opts.client, ref, clock: this.clock, resyncMs: this.opts.resyncMs, ...q });
      this.#informers.set(key, inf);
      if (this.#signal) this.#runs.push(inf.run(this.#signal));
    }
    return inf as unknown as Informer<T>;
  }

  /** Starts every informer made so far and any made later. */
  start(signal: AbortSignal): void {
    this.#signal = signal;
    for (const inf of this.#informers.values()) this.#runs.push(inf.run(signal));
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.waitForSync(signal)));
  }

  /** Resolves when every started informer has returned (after the start signal aborted). */
  async stopped(): Promise<void> {
    await Promise.allSettled(this.#runs);
  }

  informers(): Informer[] {
    return [...this.#informers.values()];
  }
}
