// Start order of a node's networking (called by agent/run.ts and server/run.ts once the node is registered):
// wait for the node's podCIDR → publish overlay annotations → CNI conflist → host rules + overlay → service proxy
// → cluster DNS (+ kube-dns Service/EndpointSlice) → network policy.
import { join } from 'node:path';
import type { Client } from '../../client/types.ts';
import { core } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import { execRunner, type CommandRunner } from '../exec/runner.ts';
import { detectIptables } from '../exec/iptables.ts';
import { startProxy } from '../proxy/proxier.ts';
import { cleanupProxyRules } from '../proxy/cleanup.ts';
import { cleanupNetwork } from './cleanup.ts';
import { startDns, type DnsListen } from '../dns/server.ts';
import { ensureKubeDnsService } from '../dns/kube-dns.ts';
import { hostUpstreams } from '../dns/resolv-conf.ts';
import { startNetworkPolicy } from '../netpol/policy-enforcer.ts';
import { writeCniConfig } from './cni-config.ts';
import { startPodNetwork, nodeNetworkAnnotations } from './pod-network.ts';
import { VXLAN, type Backend } from './overlay.ts';

const log = logger('agent/networking');

export interface NodeNetworkingOptions {
  client: Client;
  nodeName: string;
  /** The node's address (underlay, NodePort, DNS listener). */
  nodeIp: string;
  clusterCidr: string;
  clusterDns: string;
  clusterDomain: string;
  /** containerd's cni.conf_dir. */
  cniConfDir: string;
  /** Per-node state, e.g. <data-dir>/agent: host-local IPAM lives in <stateDir>/cni-ipam. */
  stateDir: string;
  signal: AbortSignal;
  backend?: Backend | 'none';
  disable?: { networkPolicy?: boolean; dns?: boolean; proxy?: boolean };
  /** Override the DNS listeners (default nodeIp:53) and upstreams (default: host resolv.conf). */
  dnsListen?: DnsListen[];
  dnsUpstreams?: string[];
  runner?: CommandRunner;
  clock?: Clock;
}

/** The MTU of the interface holding `ip` (1500 when it cannot be found). */
export async function interfaceMtu(runner: CommandRunner, ip: string): Promise<number> {
  const addrs = await runner.run('ip', ['-o', '-4', 'addr', 'show'], { allowFail: true });
  const dev = addrs.stdout.split('\n').find((l) => l.includes(` inet ${ip}/`))?.split(/\s+/)[1];
  if (!dev) return 1500;
  const link = await runner.run('ip', ['-o', 'link', 'show', 'dev', dev], { allowFail: true });
  return Number(/ mtu (\d+)/.exec(link.stdout)?.[1] ?? 1500);
}

async function waitForPodCidr(o: NodeNetworkingOptions, clock: Clock): Promise<string> {
  for (let i = 0; !o.signal.aborted; i++) {
    const node = await o.client.get(core('nodes'), o.nodeName).catch(() => undefined);
    const cidr: string | undefined = node?.spec?.podCIDR;
    if (cidr) return cidr;
    if (i % 10 === 0) log.info('waiting for the node podCIDR (node IPAM)', { node: o.nodeName });
    await clock.sleep(500, o.signal);
  }
  throw new Error('aborted while waiting for the node podCIDR');
}

/** Retries fn with backoff (0.5 s doubling to 30 s) until it succeeds or the signal aborts. */
async function retry<T>(signal: AbortSignal, clock: Clock, what: string, fn: () => Promise<T>): Promise<T> {
  let delay = 500;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted) throw err;
      log.warn(`${what} failed; retrying`, { err: String(err), retryMs: delay });
      await clock.sleep(delay, signal);
      delay = Math.min(delay * 2, 30_000);
    }
  }
}

export interface NodeNetworking {
  podCidr: string;
  /** Resolves when the proxy, the overlay and DNS have done their first sync. */
  ready: Promise<void>;
}

export async function startNodeNetworking(o: NodeNetworkingOptions): Promise<NodeNetworking> {
  const runner = o.runner ?? execRunner;
  const clock = o.clock ?? realClock;
  const backend = o.backend ?? 'vxlan';
  const ipt = await detectIptables(runner);
  const podCidr = await waitForPodCidr(o, clock);
  const mtu = await interfaceMtu(runner, o.nodeIp);
  if (backend !== 'none') {
    const annotations = nodeNetworkAnnotations({ nodeName: o.nodeName, publicIp: o.nodeIp, backend });
    await retry(o.signal, clock, 'publishing the node network annotations', () => o.client.patch(core('nodes'), o.nodeName, 'merge', { metadata: { annotations } }));
  }
  await writeCniConfig(o.cniConfDir, { podCidr, ipamDataDir: join(o.stateDir, 'cni-ipam'), mtu: backend === 'vxlan' ? mtu - VXLAN.overhead : mtu });
  const waits: Promise<unknown>[] = [];
  if (backend !== 'none') {
    const net = await startPodNetwork({ client: o.client, runner, nodeName: o.nodeName, nodeIp: o.nodeIp, podCidr, clusterCidr: o.clusterCidr, backend, signal: o.signal, mtu, clock, ipt });
    waits.push(net.ready);
  }
  const proxyReady = o.disable?.proxy
    ? Promise.resolve()
    : startProxy({ client: o.client, runner, nodeName: o.nodeName, clusterCidr: o.clusterCidr, signal: o.signal, clock, ipt }).ready;
  waits.push(proxyReady);
  if (!o.disable?.dns) {
    const base = {
      client: o.client, domain: o.clusterDomain, upstreams: o.dnsUpstreams ?? (await hostUpstreams()), signal: o.signal, clock,
      ...(o.dnsListen ? {} : { metricsListen: { address: o.nodeIp, port: 9153 } }),
    };
    const dns = await startDns({ ...base, listen: o.dnsListen ?? [{ address: o.nodeIp, port: 53 }] }).catch(async (err: unknown) => {
      if (o.dnsListen) throw err;
      // Port 53 taken on the node address (a local dnsmasq, say): any port works, the EndpointSlice carries it.
      log.warn('cluster DNS cannot use port 53 on the node address; using a free port', { err: String((err as Error).cause ?? err) });
      return startDns({ ...base, listen: [{ address: o.nodeIp, port: 0 }] });
    });
    const port = dns.addresses[0]?.port ?? 53;
    // In the background: an agent may have to wait for the server (or for permissions) to publish its slice.
    void retry(o.signal, clock, 'publishing the kube-dns Service and EndpointSlice', () =>
      ensureKubeDnsService(o.client, { clusterDns: o.clusterDns, nodeName: o.nodeName, nodeIp: o.nodeIp, dnsPort: port })).catch(() => undefined);
    waits.push(dns.ready);
  }
  if (!o.disable?.networkPolicy) {
    // After the proxy installed its FORWARD jumps, so that the policy jump ends up first (its resync keeps it there).
    waits.push(proxyReady.then(() => startNetworkPolicy({ client: o.client, runner, nodeName: o.nodeName, signal: o.signal, clock, ipt }).ready));
  }
  return { podCidr, ready: Promise.all(waits).then(() => undefined) };
}

/** Everything `tsk killall` must remove for networking: proxy chains and jumps, bridge, VXLAN device, cluster
 * routes, TSK-NET-/TSK-NP-/CNI- chains. Safe to run when nothing is there. */
export async function cleanupNodeNetworking(runner: CommandRunner = execRunner, o: { clusterCidr?: string; removeCniCache?: boolean } = {}): Promise<void> {
  const ipt = await detectIptables(runner);
  await cleanupProxyRules(runner, ipt);
  await cleanupNetwork(runner, { ...o, ipt });
}
