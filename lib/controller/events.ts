// Event recorder: core/v1 Events for `kubectl describe`. Repeats of the same (object, reason, message) are folded
// into one Event whose count is bumped at most once per `repeatWriteMs` (default 10 min) so a stuck pod retried
// every few seconds does not become a steady stream of store writes. Writes are fire-and-forget and bounded.
import { core, type Client, type KubeObject } from '../client/types.ts';
import { realClock, type Clock } from '../clock.ts';
import { logger } from '../log/logger.ts';

const log = logger('controller/events');

export interface EventRecorder {
  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface EventRecorderOptions {
  client: Pick<Client, 'create' | 'patch'>;
  component: string;
  host?: string;
  clock?: Clock;
  repeatWriteMs?: number;
  maxInFlight?: number;
  maxTracked?: number;
}

interface Seen { name: string; namespace: string; count: number; written: number; lastWrite: number }

export class ClientEventRecorder implements EventRecorder {
  readonly opts: EventRecorderOptions;
  readonly clock: Clock;
  #seen = new Map<string, Seen>();
  #inFlight = 0;
  #seq = 0;
  readonly pending = new Set<Promise<unknown>>();

  constructor(opts: EventRecorderOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
  }

  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = `${obj.metadata.uid ?? obj.metadata.name}\u0000${reason}\u0000${message}`;
    const now = this.clock.now();
    const ts = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const seen = this.#seen.get(key);
    if (seen) {
      seen.count++;
      if (now - seen.lastWrite < (this.opts.repeatWriteMs ?? 600_000)) return;
      seen.lastWrite = now;
      const count = seen.count;
      this.#write(() => this.opts.client.patch(core('events'), seen.name, 'merge', { count, lastTimestamp: ts }, { namespace: seen.namespace }));
      return;
    }
    const namespace = obj.metadata.namespace || 'default';
    const name = `${obj.metadata.name}.${(BigInt(now) * 1_000_000n + BigInt(this.#seq++ % 1_000_000)).toString(16)}`;
    if (this.#seen.size >= (this.opts.maxTracked ?? 4096)) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(key, { name, namespace, count: 1, written: now, lastWrite: now });
    const involvedObject = {
      apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace,
      uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion,
    };
    this.#write(() => this.opts.client.create(core('events'), {
      apiVersion: 'v1', kind: 'Event', metadata: { name, namespace }, involvedObject, reason, message, type, count: 1,
      firstTimestamp: ts, lastTimestamp: ts, source: { component: this.opts.component, host: this.opts.host },
      reportingComponent: this.opts.component, reportingInstance: this.opts.host ?? '',
    }, namespace));
  }

  #write(fn: () => Promise<unknown>): void {
    if (this.#inFlight >= (this.opts.maxInFlight ?? 64)) {
      log.debug('dropping event: too many in flight');
      return;
    }
    this.#inFlight++;
    const p = fn().catch((e) => log.debug('writing event failed', { err: String(e) })).finally(() => {
      this.#inFlight--;
      this.pending.delete(p);
    });
    this.pending.add(p);
  }

  /** Waits for writes in flight (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}

export const nullRecorder: EventRecorder = { event() {} };
