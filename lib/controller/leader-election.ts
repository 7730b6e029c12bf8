// Leader election over a coordination.k8s.io/v1 Lease, like client-go's leaderelection with the Lease lock.
//
// Idle cost trade-off: Kubernetes defaults (15 s lease, renew every 10 s, retry 2 s) cost one store write every
// 10 s per elected component forever. A lone edge server would spend most of its idle writes on that. tsk uses
// ONE lease for the whole control plane (scheduler + controllers) with a 60 s duration renewed every 40 s: 1.5
// writes a minute. The price is failover: a crashed leader's lease is taken over 60 s after its last renewal
// instead of 15 s. A clean stop releases the lease at once (holderIdentity cleared, as client-go's
// ReleaseOnCancel), so planned restarts and handovers do not wait. A renewal changes only spec.renewTime, so the
// SQLite store commits it lazily with other writes (lib/server/resources/coordination.ts): no fsync of its own;
// acquiring, taking over and releasing are ordinary, durable writes. A renewal lost in a crash only leaves an older
// renewTime, and expiry is judged from when an observer saw renewTime change, on its own clock.
import { ApiError, coordination, isConflict, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import { realClock, type Clock } from '../clock.ts';
import { logger } from '../log/logger.ts';

const log = logger('controller/leader-election');
const leases = coordination('leases');

export interface LeaderElectionOptions {
  client: Pick<Client, 'get' | 'create' | 'update'>;
  identity: string;
  name?: string;
  namespace?: string;
  clock?: Clock;
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
  /** How often a non-leader checks whether the lease became free. */
  retryIntervalMs?: number;
}

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** RFC 3339 with microseconds, as MicroTime. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  readonly opts: Required<Omit<LeaderElectionOptions, 'client' | 'clock'>>;
  readonly client: LeaderElectionOptions['client'];
  readonly clock: Clock;
  #observed: { lease?: Lease; at: number; renewTime?: string; holder?: string } = { at: 0 };
  #leading = false;

  constructor(o: LeaderElectionOptions) {
    this.client = o.client;
    this.clock = o.clock ?? realClock;
    this.opts = {
      identity: o.identity,
      name: o.name ?? 'tsk-controllers',
      namespace: o.namespace ?? 'kube-system',
      leaseDurationSeconds: o.leaseDurationSeconds ?? 60,
      renewIntervalMs: o.renewIntervalMs ?? 40_000,
      retryIntervalMs: o.retryIntervalMs ?? 5_000,
    };
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /**
   * Campaigns until leader, then calls lead(leaderSignal) and keeps renewing. leaderSignal aborts when leadership is
   * lost or signal aborts; on stop the lease is released. Resolves after release.
   */
  async run(signal: AbortSignal, lead: (leaderSignal: AbortSignal) => void | Promise<void>): Promise<void> {
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) break;
      await this.clock.sleep(this.opts.retryIntervalMs, signal);
    }
    if (signal.aborted) return;
    log.info('became leader', { identity: this.opts.identity, lease: this.opts.name });
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    signal.addEventListener('abort', stop, { once: true });
    const leading = Promise.resolve().then(() => lead(ctl.signal));
    let lastRenew = this.clock.now();
    while (!signal.aborted) {
      await this.clock.sleep(this.opts.renewIntervalMs, signal);
      if (signal.aborted) break;
      if (await this.tryAcquireOrRenew().catch(() => false)) {
        lastRenew = this.clock.now();
        continue;
      }
      if (this.clock.now() - lastRenew >= this.opts.leaseDurationSeconds * 1000 || !this.#leading) {
        log.warn('lost leadership', { identity: this.opts.identity });
        break;
      }
    }
    this.#leading = false;
    ctl.abort();
    signal.removeEventListener('abort', stop);
    await leading.catch((e) => log.error('leader work failed', { err: String(e) }));
    if (signal.aborted) await this.release();
  }

  /** One attempt; true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity, leaseDurationSeconds } = this.opts;
    const now = this.clock.now();
    let lease: Lease;
    try {
      lease = await this.client.get<Lease>(leases, name, namespace);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        await this.client.create<Lease>(leases, {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        }, namespace);
        this.#leading = true;
        return true;
      } catch (err) {
        if (err instanceof ApiError && (err.code === 409)) return false;
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    // Track when WE first saw the current renewTime; expiry is judged on our clock (no cross-host clock skew).
    if (spec.renewTime !== this.#observed.renewTime || spec.holderIdentity !== this.#observed.holder) {
      this.#observed = { lease, at: now, renewTime: spec.renewTime, holder: spec.holderIdentity };
    }
    const held = !!spec.holderIdentity && spec.holderIdentity !== identity;
    const expired = this.#observed.at + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 <= now;
    if (held && !expired) {
      this.#leading = false;
      return false;
    }
    const mine = spec.holderIdentity === identity;
    const next: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: microTime(now),
        acquireTime: mine ? spec.acquireTime : microTime(now),
        leaseTransitions: mine ? spec.leaseTransitions ?? 0 : (spec.leaseTransitions ?? 0) + (spec.holderIdentity ? 1 : 0),
      },
    };
    try {
      const saved = await this.client.update<Lease>(leases, next);
      this.#observed = { lease: saved, at: now, renewTime: saved.spec?.renewTime, holder: identity };
      this.#leading = true;
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  /** Clears holderIdentity so another candidate takes over at once. */
  async release(): Promise<void> {
    const { name, namespace, identity } = this.opts;
    try {
      const lease = await this.client.get<Lease>(leases, name, namespace);
      if (lease.spec?.holderIdentity !== identity) return;
      const now = microTime(this.clock.now());
      await this.client.update<Lease>(leases, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
      });
      log.info('released leadership', { identity });
    } catch (e) {
      log.warn('releasing lease failed', { err: String(e) });
    }
  }
}
