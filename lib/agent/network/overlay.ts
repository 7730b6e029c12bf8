// The cross-node pod network as a plan: for every other node with a podCIDR, either VXLAN entries (flannel-style:
// route via the remote VTEP address onlink, a permanent neighbour, an FDB entry to the remote public IP) or a
// plain host-gw route. overlayCommands turns the difference between two plans into `ip`/`bridge` commands. Pure.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../client/types.ts';
import { nthAddress, parseCidr } from './cidr.ts';
import { compareText } from '../compare.ts';

export type Backend = 'vxlan' | 'host-gw';

export const ANNOTATION_PUBLIC_IP = 'tsk.io/public-ip';
export const ANNOTATION_VXLAN_MAC = 'tsk.io/vxlan-mac';
export const ANNOTATION_BACKEND = 'tsk.io/backend';

export const VXLAN = { dev: 'tsk.vxlan', vni: 1, port: 8472, overhead: 50 } as const;

export interface OverlayNode {
  name: string;
  podCidr: string;
  ip: string;
  vtepMac?: string;
}

export interface OverlayRoute { dst: string; via: string; dev?: string; onlink?: boolean }
export interface OverlayPlan {
  routes: OverlayRoute[];
  neighbors: { ip: string; mac: string; dev: string }[];
  fdb: { mac: string; dst: string; dev: string }[];
}

export const emptyPlan = (): OverlayPlan => ({ routes: [], neighbors: [], fdb: [] });

/** A stable, locally administered unicast MAC for this node's VXLAN device. */
export function vtepMac(nodeName: string): string {
  const h = createHash('sha256').update(`tsk-vxlan/${nodeName}`).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** The VTEP address of a node: the network address of its podCIDR (flannel's convention). */
export const vtepAddress = (podCidr: string): string => nthAddress(parseCidr(podCidr), 0);

/** Reads what the overlay needs from a Node object. */
export function overlayNode(n: KubeObject): OverlayNode | undefined {
  const podCidr: string | undefined = n.spec?.podCIDR;
  const addrs = (n.status?.addresses ?? []) as { type: string; address: string }[];
  const ip = n.metadata.annotations?.[ANNOTATION_PUBLIC_IP] ?? addrs.find((a) => a.type === 'InternalIP')?.address;
  if (!podCidr || !ip || n.metadata.deletionTimestamp) return undefined;
  const mac = n.metadata.annotations?.[ANNOTATION_VXLAN_MAC];
  return { name: n.metadata.name!, podCidr, ip, ...(mac ? { vtepMac: mac } : {}) };
}

export function planOverlay(o: { backend: Backend; self: string; nodes: OverlayNode[]; dev?: string }): OverlayPlan {
  const dev = o.dev ?? VXLAN.dev;
  const plan = emptyPlan();
  for (const n of [...o.nodes].sort((a, b) => compareText(a.name, b.name))) {
    if (n.name === o.self) continue;
    if (o.backend === 'host-gw') {
      plan.routes.push({ dst: n.podCidr, via: n.ip });
      continue;
    }
    if (!n.vtepMac) continue; // not published yet
    const vtep = vtepAddress(n.podCidr);
    plan.routes.push({ dst: n.podCidr, via: vtep, dev, onlink: true });
    plan.neighbors.push({ ip: vtep, mac: n.vtepMac, dev });
    plan.fdb.push({ mac: n.vtepMac, dst: n.ip, dev });
  }
  return plan;
}

const routeArgs = (r: OverlayRoute) => [r.dst, 'via', r.via, ...(r.dev ? ['dev', r.dev] : []), ...(r.onlink ? ['onlink'] : [])];
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Commands taking the kernel from `prev` to `next` ([cmd, ...args]); additions use replace so they are
 * idempotent. Order: FDB and neighbours before routes on add, routes before them on delete.
 */
export function overlayCommands(prev: OverlayPlan, next: OverlayPlan): string[][] {
  const out: string[][] = [];
  const gone = <T>(a: T[], b: T[]) => a.filter((x) => !b.some((y) => same(x, y)));
  for (const r of gone(prev.routes, next.routes)) {
    if (!next.routes.some((x) => x.dst === r.dst)) out.push(['ip', 'route', 'del', ...routeArgs(r)]);
  }
  for (const n of gone(prev.neighbors, next.neighbors)) out.push(['ip', 'neigh', 'del', n.ip, 'dev', n.dev]);
  for (const f of gone(prev.fdb, next.fdb)) out.push(['bridge', 'fdb', 'del', f.mac, 'dev', f.dev, 'dst', f.dst]);
  for (const f of gone(next.fdb, prev.fdb)) out.push(['bridge', 'fdb', 'replace', f.mac, 'dev', f.dev, 'dst', f.dst, 'self', 'permanent']);
  for (const n of gone(next.neighbors, prev.neighbors)) out.push(['ip', 'neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', n.dev, 'nud', 'permanent']);
  for (const r of gone(next.routes, prev.routes)) out.push(['ip', 'route', 'replace', ...routeArgs(r)]);
  return out;
}

/** Commands creating (if absent) and configuring this node's VXLAN device. */
export function vxlanDeviceCommands(o: { localIp: string; podCidr: string; mac: string; mtu: number; dev?: string; exists: boolean }): string[][] {
  const dev = o.dev ?? VXLAN.dev;
  const out: string[][] = [];
  if (!o.exists) out.push(['ip', 'link', 'add', dev, 'type', 'vxlan', 'id', String(VXLAN.vni), 'local', o.localIp, 'dstport', String(VXLAN.port), 'nolearning']);
  out.push(['ip', 'link', 'set', dev, 'address', o.mac, 'mtu', String(o.mtu)]);
  out.push(['ip', 'addr', 'replace', `${vtepAddress(o.podCidr)}/32`, 'dev', dev]);
  out.push(['ip', 'link', 'set', dev, 'up']);
  return out;
}
