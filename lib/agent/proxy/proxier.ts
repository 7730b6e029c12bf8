// The service proxy loop: Services + EndpointSlices from the API → ProxyState → iptables-restore, coalesced.
import type { Client } from '../../client/types.ts';
import { core, discovery } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import type { CommandRunner } from '../exec/runner.ts';
import { detectIptables, ensureRule, listChains, restore, type Iptables } from '../exec/iptables.ts';
import { ObjectCache } from './object-cache.ts';
import { SyncCoalescer } from './coalescer.ts';
import { buildProxyState } from './state.ts';
import { renderChanges, renderTables, PROXY_JUMPS } from './render.ts';
import { staleConntrack } from './conntrack.ts';
import type { ProxyState } from './types.ts';

const log = logger('agent/proxy');

/**
 * Applies ProxyState to the kernel: jump rules once, then the TSK- rule set atomically. The first sync (and every
 * full resync, and any sync after a failed one) writes every chain and deletes stale ones found by iptables-save;
 * the syncs in between write only the chains whose rules changed, as kube-proxy does, so one endpoint change among
 * 1,000 services rewrites a few chains instead of 17,000 rules.
 */
export class ProxyApplier {
  readonly #runner: CommandRunner;
  #ipt: Iptables | undefined;
  #jumpsInstalled = false;
  #last: ProxyState | undefined;
  #applied: { filter: Map<string, string>; nat: Map<string, string> } | undefined;

  constructor(runner: CommandRunner, ipt?: Iptables) {
    this.#runner = runner;
    this.#ipt = ipt;
  }

  /** Makes the next apply a full one that also re-checks the jump rules (someone may have flushed our chains or
   * the built-in ones). */
  recheckJumps(): void {
    this.#jumpsInstalled = false;
    this.#applied = undefined;
  }

  async apply(state: ProxyState): Promise<void> {
    const ipt = (this.#ipt ??= await detectIptables(this.#runner));
    const tables = renderTables(state);
    const applied = this.#applied;
    this.#applied = undefined; // a failure below makes the next sync a full one
    if (applied) {
      const text = renderChanges(tables, applied);
      if (text) await restore(this.#runner, ipt, text);
    } else {
      const existing = { nat: await listChains(this.#runner, ipt, 'nat'), filter: await listChains(this.#runner, ipt, 'filter') };
      await restore(this.#runner, ipt, `${tables.filter.text('filter', existing.filter)}\n${tables.nat.text('nat', existing.nat)}\n`);
    }
    if (!this.#jumpsInstalled) {
      // Reverse order with -I so that the final order matches PROXY_JUMPS.
      for (const j of [...PROXY_JUMPS].reverse()) await ensureRule(this.#runner, ipt, { table: j.table, chain: j.chain, rule: [...j.rule] });
      this.#jumpsInstalled = true;
    }
    this.#applied = { filter: tables.filter.signatures(), nat: tables.nat.signatures() };
    for (const args of staleConntrack(this.#last, state)) {
      await this.#runner.run('conntrack', args, { allowFail: true }).catch((err: unknown) => log.debug('conntrack failed', { err: String(err) }));
    }
    this.#last = state;
  }
}

export interface ProxyOptions {
  client: Pick<Client, 'list' | 'watch'>;
  runner: CommandRunner;
  nodeName: string;
  clusterCidr?: string;
  signal: AbortSignal;
  /** Minimum time between two rule rewrites (default 1000 ms). */
  minSyncIntervalMs?: number;
  clock?: Clock;
  ipt?: Iptables;
  /** Full resync period that also repairs the jump rules (default 5 min). */
  resyncMs?: number;
}

export interface ProxyHandle {
  /** Resolves after the first successful sync. */
  ready: Promise<void>;
  /** Resolves when no sync is pending (for tests). */
  idle(): Promise<void>;
  syncs(): number;
}

export function startProxy(opts: ProxyOptions): ProxyHandle {
  const clock = opts.clock ?? realClock;
  const applier = new ProxyApplier(opts.runner, opts.ipt);
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => { resolveReady = r; });
  const caches = {
    services: new ObjectCache(opts.client, core('services'), { onChange: () => changed() }),
    slices: new ObjectCache(opts.client, discovery('endpointslices'), { onChange: () => changed() }),
  };
  const coalescer = new SyncCoalescer({
    clock,
    minIntervalMs: opts.minSyncIntervalMs ?? 1000,
    sync: async () => {
      const state = buildProxyState({
        services: caches.services.list(), endpointSlices: caches.slices.list(), nodeName: opts.nodeName,
        ...(opts.clusterCidr ? { clusterCidr: opts.clusterCidr } : {}),
      });
      try {
        await applier.apply(state);
        log.debug('synced proxy rules', { servicePorts: state.services.length });
        resolveReady();
      } catch (err) {
        log.error('syncing proxy rules failed', { err: String(err) });
        throw err;
      }
    },
  });
  function changed() {
    if (caches.services.hasSynced && caches.slices.hasSynced) coalescer.request();
  }
  void caches.services.run(opts.signal);
  void caches.slices.run(opts.signal);
  let resync: { cancel(): void } | undefined;
  const scheduleResync = () => {
    resync = clock.setTimeout(() => {
      applier.recheckJumps();
      changed();
      scheduleResync();
    }, opts.resyncMs ?? 300_000);
  };
  scheduleResync();
  opts.signal.addEventListener('abort', () => { resync?.cancel(); coalescer.stop(); }, { once: true });
  return { ready, idle: () => coalescer.idle(), syncs: () => coalescer.syncs };
}
