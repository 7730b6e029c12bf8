// Wiring of the eviction manager into a node: signals from this machine, pod usage from CRI stats, eviction through
// the kubelet's pod workers, image GC and dead containers for disk pressure, Events, and the options that make the
// Node report the pressure conditions (and hold the hard thresholds back from allocatable).
import { join } from 'node:path';
import type { Client } from '../../client/types.ts';
import type { Clock } from '../../clock.ts';
import { ClientEventRecorder } from '../../controller/events.ts';
import { logger } from '../../log/logger.ts';
import type { CriRuntime } from '../cri/types.ts';
import { collectImages } from '../images/gc.ts';
import type { Kubelet } from '../kubelet/kubelet.ts';
import { L_CONTAINER_NAME, L_MANAGED, L_POD_UID } from '../kubelet/labels.ts';
import type { Pod } from '../kubelet/pod-types.ts';
import type { EvictionReserve, NodePressure } from '../node/node-object.ts';
import { thresholdQuantity, type EvictionConfig, type Signal } from './config.ts';
import { EvictionManager } from './manager.ts';
import { admitUnderPressure } from './rank.ts';
import { podUsage } from './pod-usage.ts';
import { observeSignals } from './signals.ts';

const log = logger('agent/eviction');

/** Dead containers beyond the newest two per (pod, container name) — the kubelet's container GC, made eager. */
export async function removeDeadContainers(cri: Pick<CriRuntime, 'listContainers' | 'removeContainer'>): Promise<number> {
  const groups = new Map<string, { id: string; state: string; created_at: string }[]>();
  for (const c of await cri.listContainers({ label_selector: { [L_MANAGED]: 'true' } })) {
    const k = `${c.labels[L_POD_UID]}/${c.labels[L_CONTAINER_NAME]}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  let removed = 0;
  for (const list of groups.values()) {
    list.sort((a, b) => (BigInt(b.created_at || '0') > BigInt(a.created_at || '0') ? 1 : -1));
    for (const c of list.slice(2)) {
      if (c.state !== 'CONTAINER_EXITED') continue;
      await cri.removeContainer(c.id).then(() => removed++, (e) => log.debug('removing dead container failed', { id: c.id, err: String(e) }));
    }
  }
  return removed;
}

export interface NodeEvictionOptions {
  client: Client;
  cri: CriRuntime;
  nodeName: string;
  dataDir: string;
  config: EvictionConfig;
  /** Never garbage-collected (the pause image). */
  keepImages: string[];
  /** The kubelet, once started. */
  kubelet: () => Kubelet | undefined;
  clock?: Clock;
  periodMs?: number;
}

export interface NodeEviction {
  manager: EvictionManager;
  /** For startKubelet's nodeOptions. */
  nodeOptions: { pressure: () => NodePressure; evictionReserve: EvictionReserve; statusNudge: () => Promise<void> };
  run(signal: AbortSignal): Promise<void>;
  /** Rejects pods newly bound to the node while it is under pressure (a kubelet admit handler; call before kubelet.start()). */
  admitNewPods(kubelet: Pick<Kubelet, 'addAdmitHandler'>): void;
}

export function nodeEviction(o: NodeEvictionOptions): NodeEviction {
  const agentDir = join(o.dataDir, 'agent');
  const recorder = new ClientEventRecorder({ client: o.client, component: 'kubelet', host: o.nodeName, clock: o.clock });
  let wake = () => {};
  const active = (p: Pod) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
  /** Pods refused by admission: not active, never ranked for eviction. */
  const rejected = new Set<string>();
  const activePods = () => {
    const all = o.kubelet()?.informer.cache.list() ?? [];
    if (rejected.size) { const uids = new Set(all.map((p) => p.metadata.uid!)); for (const u of rejected) if (!uids.has(u)) rejected.delete(u); }
    return all.filter((p) => active(p) && !rejected.has(p.metadata.uid!));
  };
  const manager = new EvictionManager({
    config: o.config,
    clock: o.clock,
    periodMs: o.periodMs,
    recorder,
    observe: () => observeSignals({ nodefs: agentDir, imagefs: join(agentDir, 'containerd') }),
    activePods,
    usage: (resource) => podUsage({ cri: o.cri, nodeName: o.nodeName, logsDir: join(agentDir, 'pod-logs'), podsDir: join(agentDir, 'pods') }, resource),
    evict: async (pod, e) => { await o.kubelet()?.evict(pod.metadata.uid!, { graceSeconds: e.graceSeconds, reason: 'Evicted', message: e.message }); },
    reclaimDisk: async () => {
      const containers = await removeDeadContainers(o.cri);
      const images = await collectImages({ cri: o.cri, keep: o.keepImages, signal: new AbortController().signal, policy: { highPercent: 0, lowPercent: 0 } });
      log.info('disk pressure: reclaimed node-level resources', { deadContainers: containers, images: images.length });
    },
    onConditionsChanged: () => wake(),
  });
  const hard = (signal: Signal) => o.config.thresholds.find((t) => t.signal === signal && t.gracePeriodMs === 0);
  const reserve = (signal: Signal) => (capacity: number) => { const t = hard(signal); return t ? thresholdQuantity(t.value, capacity) : 0; };
  return {
    manager,
    nodeOptions: {
      pressure: () => manager.conditions(),
      evictionReserve: { memoryBytes: reserve('memory.available'), ephemeralBytes: reserve('nodefs.available') },
      statusNudge: () => new Promise<void>((r) => { wake = r; }),
    },
    run: (signal) => manager.run(signal),
    admitNewPods(kubelet) {
      // The kubelet asks before a new pod's first sync: a rejected pod is marked Failed and never started.
      kubelet.addAdmitHandler((p) => {
        const refusal = admitUnderPressure(p, manager.conditions());
        if (!refusal) return { admit: true };
        rejected.add(p.metadata.uid!);
        recorder.event({ ...p, apiVersion: 'v1', kind: 'Pod' }, 'Warning', refusal.reason, refusal.message);
        return { admit: false, ...refusal };
      });
    },
  };
}
