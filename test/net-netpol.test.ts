// NetworkPolicy enforcement with real iptables: a routed "node" namespace between two pod namespaces; ingress to
// the server is allowed from pods labelled role=client only, then denied when the client's label changes.
import t from 'tap';
import { FakeClient } from '../lib/client/fake.ts';
import { core, type KubeObject } from '../lib/client/types.ts';
import { execRunner, netnsRunner } from '../lib/agent/exec/runner.ts';
import { detectIptables, listChains } from '../lib/agent/exec/iptables.ts';
import { cleanupNetpol, startNetworkPolicy } from '../lib/agent/netpol/policy-enforcer.ts';
import { canUseNetns, tcpGet, tcpServer, testNetns, veth } from './net-helpers.ts';

if (!(await canUseNetns())) t.plan(0, 'needs root and ip netns');

const pod = (name: string, ip: string, labels: Record<string, string>): KubeObject => ({
  metadata: { name, namespace: 'app', labels }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] }, status: { podIP: ip, phase: 'Running' },
});

t.test('ingress policy allows role=client only', async (t) => {
  const { id, names: [node, p1, p2], ac } = await testNetns(t, 'n', 'c', 's');
  await veth({ a: node, aIf: `nc${id}`, aAddr: '10.42.10.1/24', b: p1, bIf: `pc${id}`, bAddr: '10.42.10.2/24' });
  await veth({ a: node, aIf: `ns${id}`, aAddr: '10.42.11.1/24', b: p2, bIf: `ps${id}`, bAddr: '10.42.11.2/24' });
  await execRunner.run('ip', ['-n', p1, 'route', 'add', 'default', 'via', '10.42.10.1']);
  await execRunner.run('ip', ['-n', p2, 'route', 'add', 'default', 'via', '10.42.11.1']);
  await execRunner.run('ip', ['netns', 'exec', node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  const server = await tcpServer(p2, 8080);
  t.teardown(() => { server.kill('SIGKILL'); });
  t.match(await tcpGet(p1, '10.42.11.2', 8080), /^hello/, 'open before any policy');

  const client = new FakeClient();
  client.seed(core('namespaces'), { metadata: { name: 'app' } });
  client.seed(core('pods'), pod('client', '10.42.10.2', { role: 'client' }), pod('server', '10.42.11.2', { app: 'web' }));
  client.seed({ group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies' }, {
    metadata: { name: 'web', namespace: 'app' },
    spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 8080 }] }] },
  });
  const runner = netnsRunner(node);
  const np = startNetworkPolicy({ client, runner, nodeName: 'n1', signal: ac.signal, minSyncIntervalMs: 50 });
  await np.ready;
  t.match(await tcpGet(p1, '10.42.11.2', 8080), /^hello 10\.42\.10\.2/, 'allowed peer connects');

  await client.patch(core('pods'), 'client', 'merge', { metadata: { labels: { role: 'other' } } }, { namespace: 'app' });
  let got = '';
  for (let i = 0; i < 50; i++) {
    await np.idle();
    got = await tcpGet(p1, '10.42.11.2', 8080);
    if (got.startsWith('ERR')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(got, 'ERR ECONNREFUSED', 'peer no longer selected: rejected');

  ac.abort();
  await cleanupNetpol(runner);
  const ipt = await detectIptables(runner);
  t.same((await listChains(runner, ipt, 'filter')).filter((c) => c.startsWith('TSK-')), [], 'chains removed');
  t.match(await tcpGet(p1, '10.42.11.2', 8080), /^hello/, 'open again after cleanup');
});
