// Event recorder: core/v1 Events for `kubectl describe`. Repeats of the same (object, reason, message) are folded
// into one Event whose count is bumped at most once per `repeatWriteMs` (default 10 min) so a stuck pod retried
// every few seconds does not become a steady stream of store writes. As client-go's spam filter, each involved
// object has a token bucket (25 events, one more every 5 minutes): past it, its events are dropped. Writes are
// fire-and-forget and bounded.
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
  /** Spam filter per involved object: burst (default 25) and one more token every refillMs (default 5 min). */
  spamBurst?: number;
  spamRefillMs?: number;
}

interface Seen { name: string; namespace: string; count: number; written: number; lastWrite: number }

export class ClientEventRecorder implements EventRecorder {
  readonly opts: EventRecorderOptions;
  readonly clock: Clock;
  #seen = new Map<string, Seen>();
  #buckets = new Map<string, { tokens: number; at: number }>();
  #inFlight = 0;
  #seq = 0;
  readonly pending = new Set<Promise<unknown>>();

  constructor(opts: EventRecorderOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
  }

  /** Takes a token of the object's bucket; false when it has none left (the event is dropped). */
  #allowed(obj: KubeObject, now: number): boolean {
    const id = obj.metadata.uid ?? `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const burst = this.opts.spamBurst ?? 25;
    const b = this.#buckets.get(id) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + Math.max(0, now - b.at) / (this.opts.spamRefillMs ?? 300_000));
    b.at = now;
    if (!this.#buckets.has(id) && this.#buckets.size >= (this.opts.maxTracked ?? 4096)) this.#buckets.delete(this.#buckets.keys().next().value!);
    this.#buckets.set(id, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = `${obj.metadata.uid ?? obj.metadata.name}\u0000${reason}\u0000${message}`;
    const now = this.clock.now();
    if (!this.#allowed(obj, now)) {
      log.debug('dropping event: too many for this object', () => ({ object: obj.metadata.name, reason }));
      return;
    }
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
