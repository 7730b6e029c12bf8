// The pod network between two emulated nodes (network namespaces connected by a veth "LAN"): VXLAN and host-gw
// routes let node A reach an address inside node B's podCIDR; cleanupNetwork removes the device and chains.
import t from 'tap';
import { FakeClient } from '../lib/client/fake.ts';
import { core, type KubeObject } from '../lib/client/types.ts';
import { execRunner, netnsRunner } from '../lib/agent/exec/runner.ts';
import { startPodNetwork, nodeNetworkAnnotations } from '../lib/agent/network/pod-network.ts';
import { cleanupNetwork } from '../lib/agent/network/cleanup.ts';
import { listChains, detectIptables } from '../lib/agent/exec/iptables.ts';
import type { Backend } from '../lib/agent/network/overlay.ts';
import { addNetns, canUseNetns, delNetns, shortId, tcpGet, tcpServer, testNetns, veth } from './net-helpers.ts';

if (!(await canUseNetns())) t.plan(0, 'needs root and ip netns');
const vxlanOk = await (async () => {
  if (!(await canUseNetns())) return false;
  const ns = `tsk-t-${shortId()}-v`;
  try {
    await addNetns(ns);
    return (await execRunner.run('ip', ['-n', ns, 'link', 'add', 'v', 'type', 'vxlan', 'id', '1', 'dstport', '8472'], { allowFail: true })).code === 0;
  } finally {
    await delNetns(ns);
  }
})();

const nodeObj = (name: string, ip: string, cidr: string, backend: Backend): KubeObject => ({
  metadata: { name, annotations: nodeNetworkAnnotations({ nodeName: name, publicIp: ip, backend }) },
  spec: { podCIDR: cidr, podCIDRs: [cidr] },
  status: { addresses: [{ type: 'InternalIP', address: ip }] },
});

for (const backend of ['vxlan', 'host-gw'] as const) {
  t.test(`two nodes over ${backend}`, { skip: backend === 'vxlan' && !vxlanOk ? 'no vxlan support' : false }, async (t) => {
    const { id, names: [a, b], ac } = await testNetns(t, 'a', 'b');
    await veth({ a, aIf: `la${id}`, aAddr: '192.168.77.1/24', b, bIf: `lb${id}`, bAddr: '192.168.77.2/24' });
    // Node B's "cni0" with the gateway address of its podCIDR; the server listens there.
    await execRunner.run('ip', ['-n', b, 'link', 'add', 'cni0', 'type', 'bridge']);
    await execRunner.run('ip', ['-n', b, 'addr', 'add', '10.42.1.1/24', 'dev', 'cni0']);
    await execRunner.run('ip', ['-n', b, 'link', 'set', 'cni0', 'up']);
    await execRunner.run('ip', ['-n', a, 'link', 'add', 'cni0', 'type', 'bridge']);
    await execRunner.run('ip', ['-n', a, 'addr', 'add', '10.42.0.1/24', 'dev', 'cni0']);
    await execRunner.run('ip', ['-n', a, 'link', 'set', 'cni0', 'up']);
    const server = await tcpServer(b, 8080);
    t.teardown(() => { server.kill('SIGKILL'); });

    const client = new FakeClient();
    client.seed(core('nodes'), nodeObj('a', '192.168.77.1', '10.42.0.0/24', backend), nodeObj('b', '192.168.77.2', '10.42.1.0/24', backend));
    const common = { client, clusterCidr: '10.42.0.0/16', backend, signal: ac.signal, minSyncIntervalMs: 50 } as const;
    const na = await startPodNetwork({ ...common, runner: netnsRunner(a), nodeName: 'a', nodeIp: '192.168.77.1', podCidr: '10.42.0.0/24' });
    const nb = await startPodNetwork({ ...common, runner: netnsRunner(b), nodeName: 'b', nodeIp: '192.168.77.2', podCidr: '10.42.1.0/24' });
    await na.ready;
    await nb.ready;
    t.equal(na.plan().routes.length, 1);

    let got = '';
    for (let i = 0; i < 20 && !got.startsWith('hello'); i++) {
      got = await tcpGet(a, '10.42.1.1', 8080);
      if (!got.startsWith('hello')) await new Promise((r) => setTimeout(r, 250));
    }
    // VXLAN sources from the VTEP address (10.42.0.0); host-gw from the LAN address, masqueraded.
    t.match(got, backend === 'vxlan' ? /^hello 10\.42\.0\.0$/ : /^hello 192\.168\.77\.1$/, 'node A reaches node B podCIDR');

    ac.abort();
    const runner = netnsRunner(a);
    await cleanupNetwork(runner, { clusterCidr: '10.42.0.0/16' });
    const links = await runner.run('ip', ['-o', 'link', 'show']);
    t.notMatch(links.stdout, /tsk\.vxlan|cni0/, 'devices removed');
    const routes = await runner.run('ip', ['-4', 'route', 'show']);
    t.notMatch(routes.stdout, /10\.42\./, 'routes removed');
    const ipt = await detectIptables(runner);
    t.same((await listChains(runner, ipt, 'nat')).filter((c) => c.startsWith('TSK-')), [], 'chains removed');
  });
}
