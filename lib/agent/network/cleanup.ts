// cleanupNetwork: removes what the pod network left on the host (for `tsk killall`): the bridge, the VXLAN
// device (and with it its routes), host-gw routes into the cluster CIDR, TSK-NET-/TSK-NP- chains and the chains
// portmap leaves behind (CNI-*), plus libcni's cache.
import { rm } from 'node:fs/promises';
import type { CommandRunner } from '../exec/runner.ts';
import { detectIptables, removeChains, type Iptables } from '../exec/iptables.ts';
import { cidrContains, parseCidr } from './cidr.ts';
import { VXLAN } from './overlay.ts';

export interface CleanupNetworkOptions {
  clusterCidr?: string;
  bridge?: string;
  ipt?: Iptables;
  /** Also remove /var/lib/cni (libcni cache); default false. */
  removeCniCache?: boolean;
}

export async function cleanupNetwork(runner: CommandRunner, o: CleanupNetworkOptions = {}): Promise<void> {
  for (const dev of [o.bridge ?? 'cni0', VXLAN.dev]) await runner.run('ip', ['link', 'del', dev], { allowFail: true });
  if (o.clusterCidr) {
    const range = parseCidr(o.clusterCidr);
    const r = await runner.run('ip', ['-4', 'route', 'show'], { allowFail: true });
    for (const line of r.stdout.split('\n')) {
      const dst = line.split(' ')[0];
      if (!dst || dst === 'default' || !/via /.test(line)) continue;
      const base = dst.split('/')[0]!;
      if (/^\d+\.\d+\.\d+\.\d+$/.test(base) && cidrContains(range, base)) await runner.run('ip', ['route', 'del', dst], { allowFail: true });
    }
  }
  const ipt = o.ipt ?? (await detectIptables(runner));
  await removeChains(runner, ipt, ['nat', 'filter'], (c) => c.startsWith('TSK-NET-') || c.startsWith('TSK-NP-') || c.startsWith('CNI-'));
  if (o.removeCniCache) await rm('/var/lib/cni', { recursive: true, force: true });
}
