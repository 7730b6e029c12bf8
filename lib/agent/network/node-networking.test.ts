import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClient } from '../../client/fake.ts';
import { core, discovery } from '../../client/types.ts';
import { RecordingRunner } from '../exec/runner.ts';
import { startNodeNetworking } from './node-networking.ts';

t.test('wires CNI, overlay, proxy, DNS and policies for one node (recorded commands)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tsk-nn-'));
  const ac = new AbortController();
  t.teardown(async () => { ac.abort(); await rm(dir, { recursive: true, force: true }); });
  const client = new FakeClient();
  client.seed(core('nodes'), { metadata: { name: 'n1' }, spec: { podCIDR: '10.42.0.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.5.1' }] } });
  const runner = new RecordingRunner()
    .on('iptables --version', { stdout: 'iptables v1.8.9 (nf_tables)' })
    .on('ip -o -4 addr show', { stdout: '2: eth0    inet 192.168.5.1/24 brd 192.168.5.255 scope global eth0\n' })
    .on('ip -o link show dev eth0', { stdout: '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 qdisc pfifo_fast state UP\n' })
    .on('ip link show tsk.vxlan', { code: 1 });
  const nn = await startNodeNetworking({
    client, runner, nodeName: 'n1', nodeIp: '192.168.5.1', clusterCidr: '10.42.0.0/16', clusterDns: '10.43.0.10', clusterDomain: 'cluster.local',
    cniConfDir: join(dir, 'cni'), stateDir: dir, signal: ac.signal, dnsListen: [{ address: '127.0.0.1', port: 0 }], dnsUpstreams: ['127.0.0.1:9'],
  });
  await nn.ready;
  t.equal(nn.podCidr, '10.42.0.0/24');
  const conf = JSON.parse(await readFile(join(dir, 'cni', '10-tsk.conflist'), 'utf8'));
  t.equal(conf.plugins[0].mtu, 1350, 'VXLAN overhead taken off the underlay MTU');
  t.equal(client.objects(core('nodes'))[0]!.metadata.annotations!['tsk.io/backend'], 'vxlan');
  for (let i = 0; i < 200 && !client.objects(discovery('endpointslices')).length; i++) await new Promise((r) => setTimeout(r, 25));
  t.equal(client.objects(core('services'))[0]!.spec.clusterIP, '10.43.0.10');
  t.equal(client.objects(discovery('endpointslices'))[0]!.endpoints[0].addresses[0], '192.168.5.1');
  const l = runner.lines();
  t.ok(l.some((x) => x.startsWith('ip link add tsk.vxlan type vxlan id 1 local 192.168.5.1')));
  t.ok(l.includes('sysctl -w net.ipv4.ip_forward=1'));
  const restores = runner.calls.filter((c) => c.cmd === 'iptables-nft-restore' && c.input).map((c) => c.input!);
  t.ok(restores.some((x) => x.includes(':TSK-NET-POSTROUTING')), 'masquerade rules');
  t.ok(restores.some((x) => x.includes(':TSK-NP-FORWARD')), 'network policy chains');
  // The proxy may sync before or after the kube-dns slice appears; eventually it carries the DNS DNAT.
  let dnat = false;
  for (let i = 0; i < 100 && !dnat; i++) {
    dnat = runner.calls.some((c) => c.input?.includes('-d 10.43.0.10/32 -p udp'));
    if (!dnat) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(dnat, 'proxy renders the kube-dns service');
});
