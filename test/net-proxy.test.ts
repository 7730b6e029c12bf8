// The service proxy against real iptables, inside network namespaces this test creates: the rendered rules load
// in both backends, a ClusterIP and a NodePort DNAT to a TCP server in a second namespace, a service without
// endpoints REJECTs, and cleanup leaves no TSK- chain behind.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { FakeClient } from '../lib/client/fake.ts';
import { core, discovery } from '../lib/client/types.ts';
import { netnsRunner, execRunner } from '../lib/agent/exec/runner.ts';
import { detectIptables, iptablesFor, listChains, restore, type IptablesMode } from '../lib/agent/exec/iptables.ts';
import { ProxyApplier, startProxy } from '../lib/agent/proxy/proxier.ts';
import type { ProxyServicePort, ProxyState } from '../lib/agent/proxy/types.ts';
import { cleanupProxyRules } from '../lib/agent/proxy/cleanup.ts';
import { addNetns, canUseNetns, delNetns, shortId, tcpGet, tcpServer, veth } from './net-helpers.ts';

const usable = await canUseNetns();
const modes: IptablesMode[] = [];
for (const m of ['nft', 'legacy'] as const) {
  const r = await execRunner.run(iptablesFor(m).restore, ['--version'], { allowFail: true }).catch(() => ({ code: 1 }));
  if (r.code === 0) modes.push(m);
}
if (!usable || !modes.length) t.plan(0, 'needs root, ip netns and iptables');

const goldenDir = new URL('../lib/agent/proxy/testdata/', import.meta.url);
// Connectivity is proven on the host's backend; the other backend only loads and cleans the rule sets.
const detected = usable ? (await detectIptables(execRunner)).mode : 'nft';

for (const mode of modes) {
  t.test(`proxy rules in a netns (${mode})`, async (t) => {
    const id = shortId();
    const node = `tsk-t-${id}-n`;
    const pod = `tsk-t-${id}-p`;
    const ac = new AbortController();
    t.teardown(async () => {
      ac.abort();
      await delNetns(node);
      await delNetns(pod);
    });
    await addNetns(node);
    const runner = netnsRunner(node);
    const ipt = iptablesFor(mode);

    // Every golden rule set loads into this backend.
    for (const f of readdirSync(goldenDir).filter((x) => x.endsWith('.golden'))) {
      await restore(runner, ipt, readFileSync(new URL(f, goldenDir), 'utf8'));
    }
    await cleanupProxyRules(runner, ipt);
    t.same((await listChains(runner, ipt, 'nat')).filter((c) => c.startsWith('TSK-')), [], 'golden rule sets cleaned up');
    if (mode !== detected) return;

    await addNetns(pod);
    await veth({ a: node, aIf: `tn${id}`, aAddr: '10.42.9.1/24', b: pod, bIf: `tp${id}`, bAddr: '10.42.9.2/24' });
    await execRunner.run('ip', ['-n', node, 'route', 'add', '10.43.0.0/16', 'dev', `tn${id}`]);
    await execRunner.run('ip', ['-n', pod, 'route', 'add', 'default', 'via', '10.42.9.1']);

    const server = await tcpServer(pod, 8080);
    t.teardown(() => { server.kill('SIGKILL'); });

    const client = new FakeClient();
    client.seed(core('services'),
      { metadata: { name: 'web', namespace: 'default' }, spec: { type: 'NodePort', clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] } },
      { metadata: { name: 'empty', namespace: 'default' }, spec: { clusterIP: '10.43.0.21', ports: [{ port: 80, protocol: 'TCP' }] } });
    client.seed(discovery('endpointslices'), {
      metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.42.9.2'], conditions: { ready: true }, nodeName: 'n1' }],
    });
    const proxy = startProxy({ client, runner, nodeName: 'n1', clusterCidr: '10.42.0.0/16', signal: ac.signal, minSyncIntervalMs: 50, ipt });
    await proxy.ready;

    t.match(await tcpGet(node, '10.43.0.20', 80), /^hello /, 'ClusterIP reaches the endpoint');
    t.match(await tcpGet(node, '10.42.9.1', 30080), /^hello /, 'NodePort reaches the endpoint');
    t.equal(await tcpGet(node, '10.43.0.21', 80), 'ERR ECONNREFUSED', 'no endpoints: REJECT');

    // Endpoint goes away: the cluster IP now rejects, stale chains are gone.
    await client.delete(discovery('endpointslices'), 'web-1', 'default');
    const deadline = Date.now() + 30_000;
    let got = '';
    while (Date.now() < deadline) {
      await proxy.idle();
      got = await tcpGet(node, '10.43.0.20', 80);
      if (got === 'ERR ECONNREFUSED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.equal(got, 'ERR ECONNREFUSED', 'endpoint removed: REJECT');
    t.same((await listChains(runner, ipt, 'nat')).filter((c) => /^TSK-(SEP|SVC)-/.test(c)), [], 'stale chains deleted');

    ac.abort();
    await cleanupProxyRules(runner, ipt);
    for (const table of ['nat', 'filter']) {
      t.same((await listChains(runner, ipt, table)).filter((c) => c.startsWith('TSK-')), [], `no TSK- chains left in ${table}`);
      const save = await runner.run(ipt.save, ['-t', table]);
      t.notMatch(save.stdout, /TSK-/, `no jumps left in ${table}`);
    }
  });
}

// Partial syncs (only changed chains written) must leave the kernel with exactly the rules a full sync writes.
if (modes.length) t.test('partial syncs end in the same rules as a full sync', async (t) => {
  const node = `tsk-t-${shortId()}-n`;
  t.teardown(() => delNetns(node));
  await addNetns(node);
  const runner = netnsRunner(node);
  const ipt = iptablesFor(detected);
  const svc = (name: string, ip: string, eps: string[], nodePort?: number): ProxyServicePort => ({
    namespace: 'default', name, portName: 'http', protocol: 'TCP', clusterIP: ip, port: 80, externalIPs: [],
    loadBalancerIPs: [], internalLocal: false, externalLocal: false, ...(nodePort ? { nodePort } : {}),
    endpoints: eps.map((e) => ({ ip: e, port: 8080, local: e.endsWith('.2') })),
  });
  const states: ProxyState[] = [
    { clusterCidr: '10.42.0.0/16', services: [svc('a', '10.43.0.20', ['10.42.0.2', '10.42.1.3']), svc('b', '10.43.0.21', [], 30080)] },
    { clusterCidr: '10.42.0.0/16', services: [svc('a', '10.43.0.20', ['10.42.1.3']), svc('b', '10.43.0.21', ['10.42.0.2'], 30080), svc('c', '10.43.0.22', ['10.42.2.4'])] },
    { clusterCidr: '10.42.0.0/16', services: [svc('b', '10.43.0.21', ['10.42.0.2', '10.42.2.5'], 30081), svc('c', '10.43.0.22', [])] },
  ];
  const rules = async () => {
    const out: Record<string, string[]> = {};
    for (const table of ['nat', 'filter']) {
      const save = (await runner.run(ipt.save, ['-t', table])).stdout.split('\n');
      for (const l of save.filter((x) => /^-A TSK-/.test(x))) (out[`${table} ${l.split(' ')[1]}`] ??= []).push(l);
      out[`${table} chains`] = save.filter((x) => x.startsWith(':TSK-')).map((x) => x.split(' ')[0]!).sort();
    }
    return out;
  };
  const partial = new ProxyApplier(runner, ipt);
  for (const s of states) await partial.apply(s);
  const afterPartial = await rules();
  await cleanupProxyRules(runner, ipt);
  await new ProxyApplier(runner, ipt).apply(states.at(-1)!);
  t.same(afterPartial, await rules(), 'same chains and rules');
  await cleanupProxyRules(runner, ipt);
});
