// The NetworkPolicy loop on a node: policies, pods and namespaces from the API → renderNetpol → iptables-restore,
// coalesced; keeps the TSK-NP-FORWARD jump first in FORWARD.
import type { Client, KubeObject } from '../../client/types.ts';
import { core } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import type { CommandRunner } from '../exec/runner.ts';
import { detectIptables, ensureFirstRule, listChains, removeChains, restore, type Iptables } from '../exec/iptables.ts';
import { ObjectCache } from '../proxy/object-cache.ts';
import { SyncCoalescer } from '../proxy/coalescer.ts';
import { NETPOL_JUMP, renderNetpol, type NetpolInputs } from './render.ts';

const log = logger('agent/netpol');

export async function applyNetpol(runner: CommandRunner, ipt: Iptables, inputs: NetpolInputs): Promise<void> {
  const existing = await listChains(runner, ipt, 'filter');
  await restore(runner, ipt, renderNetpol(inputs, existing));
  await ensureFirstRule(runner, ipt, { table: NETPOL_JUMP.table, chain: NETPOL_JUMP.chain, rule: [...NETPOL_JUMP.rule] });
}

export async function cleanupNetpol(runner: CommandRunner, ipt?: Iptables): Promise<void> {
  await removeChains(runner, ipt ?? (await detectIptables(runner)), ['filter'], (c) => c.startsWith('TSK-NP-'));
}

export interface NetpolOptions {
  client: Pick<Client, 'list' | 'watch'>;
  runner: CommandRunner;
  nodeName: string;
  signal: AbortSignal;
  clock?: Clock;
  ipt?: Iptables;
  minSyncIntervalMs?: number;
  /** Periodic re-render that also puts the FORWARD jump back in first place (default 60 s). */
  resyncMs?: number;
}

export function startNetworkPolicy(o: NetpolOptions): { ready: Promise<void>; idle(): Promise<void> } {
  let ipt = o.ipt;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => { resolveReady = r; });
  const changed = () => { if (caches.every((c) => c.hasSynced)) coalescer.request(); };
  const policies = new ObjectCache<KubeObject>(o.client, { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies' }, { onChange: changed });
  const pods = new ObjectCache<KubeObject>(o.client, core('pods'), { onChange: changed });
  const namespaces = new ObjectCache<KubeObject>(o.client, core('namespaces'), { onChange: changed });
  const caches = [policies, pods, namespaces];
  const coalescer = new SyncCoalescer({
    clock: o.clock ?? realClock,
    minIntervalMs: o.minSyncIntervalMs ?? 1000,
    sync: async () => {
      ipt ??= await detectIptables(o.runner);
      try {
        await applyNetpol(o.runner, ipt, { policies: policies.list(), pods: pods.list(), namespaces: namespaces.list(), nodeName: o.nodeName });
        resolveReady();
      } catch (err) {
        log.error('applying network policies failed', { err: String(err) });
        throw err;
      }
    },
  });
  for (const c of caches) void c.run(o.signal);
  const clock = o.clock ?? realClock;
  let timer: { cancel(): void } | undefined;
  const tick = () => { timer = clock.setTimeout(() => { changed(); tick(); }, o.resyncMs ?? 60_000); };
  tick();
  o.signal.addEventListener('abort', () => { timer?.cancel(); coalescer.stop(); }, { once: true });
  return { ready, idle: () => coalescer.idle() };
}
