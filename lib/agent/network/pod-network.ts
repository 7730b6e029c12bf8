// The pod network loop on a node: sysctls, masquerade/forward rules, the VXLAN device (or host-gw), and routes
// to every other node's podCIDR, following Node objects. Also the node annotations other nodes read.
import type { Client, KubeObject } from '../../client/types.ts';
import { core } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import type { CommandRunner } from '../exec/runner.ts';
import { detectIptables, ensureRule, restore, type Iptables } from '../exec/iptables.ts';
import { ObjectCache } from '../proxy/object-cache.ts';
import { SyncCoalescer } from '../proxy/coalescer.ts';
import {
  ANNOTATION_BACKEND, ANNOTATION_PUBLIC_IP, ANNOTATION_VXLAN_MAC, emptyPlan, overlayCommands, overlayNode, planOverlay,
  vtepMac, vxlanDeviceCommands, VXLAN, type Backend, type OverlayPlan,
} from './overlay.ts';
import { NET_JUMPS, renderNetRules } from './rules.ts';

const log = logger('agent/network');

/** The annotations a node publishes for the others (patch them onto the Node at registration). */
export function nodeNetworkAnnotations(o: { nodeName: string; publicIp: string; backend: Backend }): Record<string, string> {
  return {
    [ANNOTATION_BACKEND]: o.backend,
    [ANNOTATION_PUBLIC_IP]: o.publicIp,
    ...(o.backend === 'vxlan' ? { [ANNOTATION_VXLAN_MAC]: vtepMac(o.nodeName) } : {}),
  };
}

export const NETWORK_SYSCTLS: [string, string][] = [
  ['net.ipv4.ip_forward', '1'],
  ['net.bridge.bridge-nf-call-iptables', '1'],
];

/** One-time host setup: br_netfilter, sysctls, TSK-NET- rules and their jumps. */
export async function setupHostNetwork(runner: CommandRunner, o: { clusterCidr: string; podCidr?: string; ipt?: Iptables }): Promise<void> {
  await runner.run('modprobe', ['br_netfilter'], { allowFail: true }).catch(() => undefined);
  for (const [k, v] of NETWORK_SYSCTLS) {
    const r = await runner.run('sysctl', ['-w', `${k}=${v}`], { allowFail: true }).catch((e: unknown) => ({ code: 1, stderr: String(e) }));
    if (r.code !== 0) log.warn('sysctl failed', { key: k, err: r.stderr });
  }
  const ipt = o.ipt ?? (await detectIptables(runner));
  await restore(runner, ipt, renderNetRules(o));
  for (const j of NET_JUMPS) await ensureRule(runner, ipt, { table: j.table, chain: j.chain, rule: [...j.rule] });
}

export interface PodNetworkOptions {
  client: Pick<Client, 'list' | 'watch'>;
  runner: CommandRunner;
  nodeName: string;
  /** This node's address other nodes reach (the VXLAN underlay / host-gw next hop). */
  nodeIp: string;
  podCidr: string;
  clusterCidr: string;
  backend: Backend;
  signal: AbortSignal;
  /** MTU of the underlay interface (the VXLAN device gets 50 less). */
  mtu?: number;
  clock?: Clock;
  ipt?: Iptables;
  minSyncIntervalMs?: number;
}

export interface PodNetworkHandle {
  ready: Promise<void>;
  idle(): Promise<void>;
  plan(): OverlayPlan;
}

export async function startPodNetwork(o: PodNetworkOptions): Promise<PodNetworkHandle> {
  await setupHostNetwork(o.runner, { clusterCidr: o.clusterCidr, podCidr: o.podCidr, ...(o.ipt ? { ipt: o.ipt } : {}) });
  if (o.backend === 'vxlan') {
    const exists = (await o.runner.run('ip', ['link', 'show', VXLAN.dev], { allowFail: true })).code === 0;
    for (const [cmd, ...args] of vxlanDeviceCommands({ localIp: o.nodeIp, podCidr: o.podCidr, mac: vtepMac(o.nodeName), mtu: (o.mtu ?? 1500) - VXLAN.overhead, exists })) {
      await o.runner.run(cmd!, args);
    }
  }
  let current = emptyPlan();
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => { resolveReady = r; });
  const nodes: ObjectCache<KubeObject> = new ObjectCache(o.client, core('nodes'), { onChange: () => { if (nodes.hasSynced) coalescer.request(); } });
  const coalescer = new SyncCoalescer({
    clock: o.clock ?? realClock,
    minIntervalMs: o.minSyncIntervalMs ?? 1000,
    sync: async () => {
      const next = planOverlay({ backend: o.backend, self: o.nodeName, nodes: nodes.list().map(overlayNode).filter((n) => n !== undefined) });
      for (const [cmd, ...args] of overlayCommands(current, next)) {
        const r = await o.runner.run(cmd!, args, { allowFail: true });
        if (r.code !== 0) log.warn('overlay command failed', { cmd: [cmd, ...args].join(' '), err: r.stderr.trim() });
      }
      current = next;
      resolveReady();
    },
  });
  void nodes.run(o.signal);
  o.signal.addEventListener('abort', () => coalescer.stop(), { once: true });
  return { ready, idle: () => coalescer.idle(), plan: () => current };
}
