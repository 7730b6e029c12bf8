// The generated CNI config with the real bridge + host-local plugins, inside namespaces this test creates: two
// pods on one node's cni0, a ClusterIP service from one pod to the other (reply bridged: br_netfilter path) and
// a hairpin service from a pod back to itself, then CNI DEL and cleanupNetwork.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClient } from '../lib/client/fake.ts';
import { core, discovery } from '../lib/client/types.ts';
import { execRunner, netnsRunner, type CommandRunner } from '../lib/agent/exec/runner.ts';
import { cniConfig } from '../lib/agent/network/cni-config.ts';
import { setupHostNetwork } from '../lib/agent/network/pod-network.ts';
import { cleanupNodeNetworking } from '../lib/agent/network/node-networking.ts';
import { startProxy } from '../lib/agent/proxy/proxier.ts';
import { tempDir } from './harness.ts';
import { canUseNetns, tcpGet, tcpServer, testNetns } from './net-helpers.ts';

const CNI_BIN = '/usr/lib/cni';
if (!(await canUseNetns()) || !existsSync(join(CNI_BIN, 'bridge'))) t.plan(0, 'needs root, ip netns and the CNI plugins');

async function cni(runner: CommandRunner, cmd: 'ADD' | 'DEL', pod: string, conf: Record<string, unknown>): Promise<string> {
  const plugin = (conf.plugins as Record<string, unknown>[])[0]!;
  const input = JSON.stringify({ cniVersion: conf.cniVersion, name: conf.name, ...plugin });
  const env = [`CNI_COMMAND=${cmd}`, `CNI_CONTAINERID=${pod}`, `CNI_NETNS=/var/run/netns/${pod}`, 'CNI_IFNAME=eth0', `CNI_PATH=${CNI_BIN}`];
  const r = await runner.run('env', [...env, join(CNI_BIN, 'bridge')], { input });
  return cmd === 'ADD' ? (JSON.parse(r.stdout).ips[0].address as string).split('/')[0]! : '';
}

t.test('pods on cni0 reach services, including hairpin', async (t) => {
  const dir = tempDir(t, 'tsk-cni-ipam-');
  const { names: [node, ...pods], ac } = await testNetns(t, 'n', '1', '2');
  const runner = netnsRunner(node);
  const conf = cniConfig({ podCidr: '10.42.0.0/24', ipamDataDir: dir });
  t.teardown(async () => {
    ac.abort();
    for (const p of pods) await cni(runner, 'DEL', p, conf).catch(() => undefined);
  });
  await setupHostNetwork(runner, { clusterCidr: '10.42.0.0/16', podCidr: '10.42.0.0/24' });
  const ips: string[] = [];
  for (const p of pods) ips.push(await cni(runner, 'ADD', p, conf));
  t.same(ips, ['10.42.0.2', '10.42.0.3'], 'host-local hands out addresses from the podCIDR');
  const servers = [await tcpServer(pods[0]!, 8080), await tcpServer(pods[1]!, 8080)];
  t.teardown(() => { for (const s of servers) s.kill('SIGKILL'); });
  t.match(await tcpGet(pods[0]!, ips[1]!, 8080), /^hello 10\.42\.0\.2$/, 'pod to pod over the bridge, not masqueraded');

  const client = new FakeClient();
  const svc = (name: string, ip: string) => ({ metadata: { name, namespace: 'default' }, spec: { clusterIP: ip, ports: [{ port: 80, protocol: 'TCP' }] } });
  const slice = (name: string, ip: string) => ({
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4',
    ports: [{ port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: [ip], conditions: { ready: true }, nodeName: 'n1' }],
  });
  client.seed(core('services'), svc('other', '10.43.0.50'), svc('self', '10.43.0.51'));
  client.seed(discovery('endpointslices'), slice('other', ips[1]!), slice('self', ips[0]!));
  const proxy = startProxy({ client, runner, nodeName: 'n1', clusterCidr: '10.42.0.0/16', signal: ac.signal, minSyncIntervalMs: 50 });
  await proxy.ready;
  const brnf = await runner.run('sysctl', ['-n', 'net.bridge.bridge-nf-call-iptables'], { allowFail: true });
  if (brnf.stdout.trim() === '1') {
    t.match(await tcpGet(pods[0]!, '10.43.0.50', 80), /^hello 10\.42\.0\.2$/, 'ClusterIP to a pod on the same bridge keeps the source');
  } else t.comment('br_netfilter unavailable: same-bridge ClusterIP replies cannot be un-NATed; skipped');
  t.match(await tcpGet(pods[0]!, '10.43.0.51', 80), /^hello 10\.42\.0\.1$/, 'hairpin to itself is masqueraded to the gateway');

  ac.abort();
  for (const p of pods) await cni(runner, 'DEL', p, conf);
  await cleanupNodeNetworking(runner, { clusterCidr: '10.42.0.0/16' });
  const links = await runner.run('ip', ['-o', 'link', 'show']);
  t.notMatch(links.stdout, /cni0/, 'bridge removed');
  const save = await runner.run('iptables-save', []);
  t.notMatch(save.stdout, /TSK-/, 'no TSK- rules left');
});
