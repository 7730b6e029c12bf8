// The cluster DNS behind the kube-dns Service IP: the DNS server runs in a "node" namespace on the node address,
// the proxy DNATs 10.43.0.10:53 (UDP and TCP) to it through the per-node EndpointSlice, and a pod resolves.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FakeClient } from '../lib/client/fake.ts';
import { core, discovery } from '../lib/client/types.ts';
import { execRunner, netnsRunner } from '../lib/agent/exec/runner.ts';
import { startProxy } from '../lib/agent/proxy/proxier.ts';
import { kubeDnsEndpointSlice, kubeDnsService } from '../lib/agent/dns/kube-dns.ts';
import { canUseNetns, testNetns, veth } from './net-helpers.ts';

if (!(await canUseNetns())) t.plan(0, 'needs root and ip netns');

t.test('a pod resolves through 10.43.0.10', async (t) => {
  const { id, names: [node, pod], ac } = await testNetns(t, 'n', 'p');
  await veth({ a: node, aIf: `dn${id}`, aAddr: '10.42.9.1/24', b: pod, bIf: `dp${id}`, bAddr: '10.42.9.2/24' });
  await execRunner.run('ip', ['-n', pod, 'route', 'add', 'default', 'via', '10.42.9.1']);

  const fixture = fileURLToPath(new URL('./net-dns-fixture.ts', import.meta.url));
  const child = spawn('ip', ['netns', 'exec', node, process.execPath, fixture, '10.42.9.1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('DNS fixture did not start')), 45_000);
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) { clearTimeout(timer); resolve(); } });
    child.once('exit', (c) => { clearTimeout(timer); reject(new Error(`DNS fixture exited ${c}`)); });
  });

  const client = new FakeClient();
  client.seed(core('services'), kubeDnsService('10.43.0.10'));
  client.seed(discovery('endpointslices'), kubeDnsEndpointSlice('n1', '10.42.9.1'));
  const proxy = startProxy({ client, runner: netnsRunner(node), nodeName: 'n1', clusterCidr: '10.42.0.0/16', signal: ac.signal, minSyncIntervalMs: 50 });
  await proxy.ready;

  const udp = await execRunner.run('ip', ['netns', 'exec', pod, 'busybox', 'nslookup', '-type=a', 'web.default.svc.cluster.local', '10.43.0.10'], { allowFail: true, timeoutMs: 20_000 });
  t.match(udp.stdout, /Address:\s*10\.43\.0\.20/, 'A record over UDP via the service IP');
  const nx = await execRunner.run('ip', ['netns', 'exec', pod, 'busybox', 'nslookup', '-type=a', 'nope.default.svc.cluster.local', '10.43.0.10'], { allowFail: true, timeoutMs: 20_000 });
  t.match(nx.stdout + nx.stderr, /NXDOMAIN/, 'NXDOMAIN for an unknown service');
  const tcp = await execRunner.run('ip', ['netns', 'exec', pod, 'curl', '-s', '--max-time', '2', 'telnet://10.43.0.10:53'], { allowFail: true, timeoutMs: 20_000 });
  t.not(tcp.code, 7, 'TCP 53 on the service IP is reachable (not refused)');
});
