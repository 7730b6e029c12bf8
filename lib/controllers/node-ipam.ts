// Node IPAM: every node gets a /24 (by default) of --cluster-cidr in spec.podCIDR/podCIDRs, never reused while
// the node exists. The allocator is pure; the controller serialises allocations (one worker).
import { core, type Client, type KubeObject } from '../client/types.ts';
import type { Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import { SharedInformerFactory } from '../controller/factory.ts';
import { nullRecorder } from '../controller/events.ts';
import { realClock } from '../clock.ts';
import { logger } from '../log/logger.ts';
import { formatCidr, parseCidr } from '../agent/network/cidr.ts';
import type { ControllerContext, ControllerInit, Runnable } from './context.ts';

const log = logger('controller/node-ipam');
const nodesRef = core('nodes');

/** The first free subnet of size /maskSize in clusterCidr, or undefined when the range is full. */
export function allocatePodCidr(clusterCidr: string, used: string[], maskSize = 24): string | undefined {
  const range = parseCidr(clusterCidr);
  if (maskSize < range.bits) throw new Error(`node mask /${maskSize} is larger than the cluster CIDR ${clusterCidr}`);
  const taken = new Set<number>();
  for (const u of used) {
    try {
      const c = parseCidr(u);
      if (c.bits === maskSize) taken.add(c.base);
    } catch { /* not IPv4: ignore */ }
  }
  const size = 2 ** (32 - maskSize);
  const count = 2 ** (maskSize - range.bits);
  for (let i = 0; i < count; i++) {
    const base = (range.base + i * size) >>> 0;
    if (!taken.has(base)) return formatCidr({ base, bits: maskSize });
  }
  return undefined;
}

export interface NodeIpamDeps {
  client: Pick<Client, 'patch'>;
  nodes: Lister;
  clusterCidr: string;
  maskSize?: number;
  /** Allocations made but possibly not yet visible in the lister. */
  pending: Map<string, string>;
}

export async function reconcileNodeIpam(deps: NodeIpamDeps, key: string): Promise<void> {
  const node = deps.nodes.get(key);
  if (!node) { deps.pending.delete(key); return; }
  if (node.spec?.podCIDR) { deps.pending.delete(key); return; }
  const used = deps.nodes.list().flatMap((n: KubeObject) => [n.spec?.podCIDR, ...(n.spec?.podCIDRs ?? [])]).filter(Boolean) as string[];
  const mine = deps.pending.get(key);
  const cidr = mine ?? allocatePodCidr(deps.clusterCidr, [...used, ...deps.pending.values()], deps.maskSize);
  if (!cidr) throw new Error(`no pod CIDR left in ${deps.clusterCidr} for node ${key}`);
  deps.pending.set(key, cidr);
  await deps.client.patch(nodesRef, key, 'merge', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
  log.info('allocated pod CIDR', { node: key, cidr });
}

/** For the controller manager's list: `'node-ipam': nodeIpamController(config.clusterCidr)`. */
export function nodeIpamController(clusterCidr: string, maskSize = 24): ControllerInit {
  return (ctx: ControllerContext): Runnable => {
    const nodes = ctx.factory.informer(nodesRef);
    const deps: NodeIpamDeps = { client: ctx.client, nodes: nodes.lister, clusterCidr, maskSize, pending: new Map() };
    const c = new Controller({ name: 'node-ipam', clock: ctx.clock, workers: 1, reconcile: (key) => reconcileNodeIpam(deps, key) });
    c.watch(nodes);
    return c;
  };
}

/** Standalone start with its own informer. */
export function startNodeIpam(opts: { client: Client; clusterCidr: string; signal: AbortSignal; maskSize?: number }): Promise<void> {
  const factory = new SharedInformerFactory({ client: opts.client, clock: realClock });
  const r = nodeIpamController(opts.clusterCidr, opts.maskSize)({ client: opts.client, factory, clock: realClock, recorder: () => nullRecorder });
  factory.start(opts.signal);
  return factory.waitForSync(opts.signal).then(() => r.run(opts.signal));
}
