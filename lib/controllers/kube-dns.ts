// Cluster DNS endpoints: every node runs the DNS server in-process on its InternalIP:53, behind one EndpointSlice
// `kube-dns-<node>` per node under the kube-dns Service (internalTrafficPolicy Local). The server creates a missing
// slice from the Node's InternalIP (agents may lack the right to) and removes it with the node.
import { core, discovery, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import { Controller } from '../controller/controller.ts';
import type { Lister } from '../controller/cache.ts';
import { KUBE_DNS_MANAGED_BY, kubeDnsEndpointSlice } from '../agent/dns/kube-dns.ts';
import type { ControllerContext, Runnable } from './context.ts';

const nodesRef = core('nodes');
const slicesRef = discovery('endpointslices');

export const internalIp = (n: KubeObject): string | undefined =>
  ((n.status?.addresses ?? []) as { type: string; address: string }[]).find((a) => a.type === 'InternalIP')?.address;

export async function reconcileKubeDns(deps: { client: Pick<Client, 'create' | 'delete'>; nodes: Lister; slices: Lister }, node: string): Promise<void> {
  const n = deps.nodes.get(node);
  const name = `kube-dns-${node}`;
  const cur = deps.slices.get(name, 'kube-system');
  const ip = n && !n.metadata.deletionTimestamp ? internalIp(n) : undefined;
  if (!ip) {
    if (cur?.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] === KUBE_DNS_MANAGED_BY) {
      await deps.client.delete(slicesRef, name, 'kube-system').catch((e) => { if (!isNotFound(e)) throw e; });
    }
    return;
  }
  const want = kubeDnsEndpointSlice(node, ip);
  want.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: node, uid: n!.metadata.uid! }];
  // Created when missing, then left to the node: its DNS server may have fallen back to another port.
  if (!cur) await deps.client.create(slicesRef, want, 'kube-system');
}

export function initKubeDnsController(ctx: ControllerContext): Runnable {
  const nodes = ctx.factory.informer(nodesRef);
  const slices = ctx.factory.informer(slicesRef);
  const c = new Controller({ name: 'kube-dns', clock: ctx.clock, reconcile: (key) => reconcileKubeDns({ client: ctx.client, nodes: nodes.lister, slices: slices.lister }, key) });
  c.watch(nodes, (n) => [n.metadata.name!]);
  c.watch(slices, (s) => (s.metadata.name?.startsWith('kube-dns-') && s.metadata.namespace === 'kube-system' ? [s.metadata.name.slice('kube-dns-'.length)] : []));
  return c;
}
