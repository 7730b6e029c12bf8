import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CNI_CONFLIST_NAME, cniConfig, hostPortCniConfDir, writeCniConfig } from './cni-config.ts';
import { emptyPlan, overlayCommands, overlayNode, planOverlay, vtepAddress, vtepMac, vxlanDeviceCommands } from './overlay.ts';
import { renderNetRules } from './rules.ts';
import { cidrContains, parseCidr, formatCidr } from './cidr.ts';
import { nodeNetworkAnnotations } from './pod-network.ts';
import { cleanupNetwork } from './cleanup.ts';
import { RecordingRunner } from '../exec/runner.ts';
import type { KubeObject } from '../../client/types.ts';

t.test('cidr helpers', async (t) => {
  t.equal(formatCidr(parseCidr('10.42.3.7/24')), '10.42.3.0/24');
  t.ok(cidrContains(parseCidr('10.42.0.0/16'), '10.42.200.1'));
  t.notOk(cidrContains(parseCidr('10.42.0.0/16'), '10.43.0.1'));
  t.equal(vtepAddress('10.42.5.0/24'), '10.42.5.0');
});

t.test('CNI conflist', async (t) => {
  const c = cniConfig({ podCidr: '10.42.1.0/24', ipamDataDir: '/var/lib/tsk/agent/cni-ipam', mtu: 1450 });
  t.same(c, {
    cniVersion: '1.0.0', name: 'tsk',
    plugins: [
      {
        type: 'bridge', bridge: 'cni0', isGateway: true, isDefaultGateway: true, ipMasq: false, hairpinMode: true, mtu: 1450,
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.42.1.0/24' }]], dataDir: '/var/lib/tsk/agent/cni-ipam' },
      },
    ],
  }, 'no portmap in the default chain');
  const hp = cniConfig({ podCidr: '10.42.1.0/24', ipamDataDir: '/var/lib/tsk/agent/cni-ipam', hostPorts: true }) as { plugins: unknown[] };
  t.same(hp.plugins[1], { type: 'portmap', capabilities: { portMappings: true }, snat: true }, 'the hostPort chain ends with portmap');
  const dir = await mkdtemp(join(tmpdir(), 'tsk-cni-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = await writeCniConfig(dir, { podCidr: '10.42.1.0/24', ipamDataDir: '/x' });
  t.equal(JSON.parse(await readFile(file, 'utf8')).plugins[0].ipam.ranges[0][0].subnet, '10.42.1.0/24');
  t.equal(JSON.parse(await readFile(file, 'utf8')).plugins.length, 1);
  const hostPort = JSON.parse(await readFile(join(hostPortCniConfDir(dir), CNI_CONFLIST_NAME), 'utf8'));
  t.same(hostPort.plugins.map((p: { type: string }) => p.type), ['bridge', 'portmap'], 'hostPort conflist written');
  t.equal(hostPort.plugins[0].ipam.dataDir, '/x', 'same IPAM state');
});

const node = (name: string, cidr: string | undefined, ip: string, mac?: string): KubeObject => ({
  metadata: { name, annotations: mac ? { 'tsk.io/vxlan-mac': mac } : {} },
  spec: cidr ? { podCIDR: cidr } : {},
  status: { addresses: [{ type: 'InternalIP', address: ip }] },
});

t.test('overlay plans and the commands between them', async (t) => {
  const nodes = [node('a', '10.42.0.0/24', '192.168.1.1', vtepMac('a')), node('b', '10.42.1.0/24', '192.168.1.2', '02:00:00:00:00:0b'), node('c', undefined, '192.168.1.3'), node('d', '10.42.3.0/24', '192.168.1.4')]
    .map(overlayNode).filter((n) => n !== undefined);
  t.equal(nodes.length, 3, 'nodes without podCIDR are skipped');
  const vx = planOverlay({ backend: 'vxlan', self: 'a', nodes });
  t.same(vx, {
    routes: [{ dst: '10.42.1.0/24', via: '10.42.1.0', dev: 'tsk.vxlan', onlink: true }],
    neighbors: [{ ip: '10.42.1.0', mac: '02:00:00:00:00:0b', dev: 'tsk.vxlan' }],
    fdb: [{ mac: '02:00:00:00:00:0b', dst: '192.168.1.2', dev: 'tsk.vxlan' }],
  }, 'node d has no VTEP MAC yet');
  t.same(overlayCommands(emptyPlan(), vx), [
    ['bridge', 'fdb', 'replace', '02:00:00:00:00:0b', 'dev', 'tsk.vxlan', 'dst', '192.168.1.2', 'self', 'permanent'],
    ['ip', 'neigh', 'replace', '10.42.1.0', 'lladdr', '02:00:00:00:00:0b', 'dev', 'tsk.vxlan', 'nud', 'permanent'],
    ['ip', 'route', 'replace', '10.42.1.0/24', 'via', '10.42.1.0', 'dev', 'tsk.vxlan', 'onlink'],
  ]);
  t.same(overlayCommands(vx, vx), [], 'no change, no commands');
  t.same(overlayCommands(vx, emptyPlan()), [
    ['ip', 'route', 'del', '10.42.1.0/24', 'via', '10.42.1.0', 'dev', 'tsk.vxlan', 'onlink'],
    ['ip', 'neigh', 'del', '10.42.1.0', 'dev', 'tsk.vxlan'],
    ['bridge', 'fdb', 'del', '02:00:00:00:00:0b', 'dev', 'tsk.vxlan', 'dst', '192.168.1.2'],
  ]);
  const gw = planOverlay({ backend: 'host-gw', self: 'a', nodes });
  t.same(gw.routes, [{ dst: '10.42.1.0/24', via: '192.168.1.2' }, { dst: '10.42.3.0/24', via: '192.168.1.4' }]);
  t.same(overlayCommands(gw, { ...gw, routes: [{ dst: '10.42.1.0/24', via: '192.168.1.9' }] }), [
    ['ip', 'route', 'del', '10.42.3.0/24', 'via', '192.168.1.4'],
    ['ip', 'route', 'replace', '10.42.1.0/24', 'via', '192.168.1.9'],
  ], 'a moved next hop is replaced, not deleted');
});

t.test('vxlan device commands and node annotations', async (t) => {
  t.match(vtepMac('node-1'), /^02(:[0-9a-f]{2}){5}$/);
  t.equal(vtepMac('node-1'), vtepMac('node-1'));
  t.same(vxlanDeviceCommands({ localIp: '192.168.1.1', podCidr: '10.42.0.0/24', mac: '02:00:00:00:00:01', mtu: 1450, exists: false }), [
    ['ip', 'link', 'add', 'tsk.vxlan', 'type', 'vxlan', 'id', '1', 'local', '192.168.1.1', 'dstport', '8472', 'nolearning'],
    ['ip', 'link', 'set', 'tsk.vxlan', 'address', '02:00:00:00:00:01', 'mtu', '1450'],
    ['ip', 'addr', 'replace', '10.42.0.0/32', 'dev', 'tsk.vxlan'],
    ['ip', 'link', 'set', 'tsk.vxlan', 'up'],
  ]);
  t.same(nodeNetworkAnnotations({ nodeName: 'n', publicIp: '1.2.3.4', backend: 'host-gw' }), { 'tsk.io/backend': 'host-gw', 'tsk.io/public-ip': '1.2.3.4' });
});

t.test('masquerade rules', async (t) => {
  t.equal(renderNetRules({ clusterCidr: '10.42.0.0/16', podCidr: '10.42.1.0/24' }), [
    '*filter',
    ':TSK-NET-FORWARD - [0:0]',
    '-A TSK-NET-FORWARD -s 10.42.0.0/16 -m comment --comment "tsk pod traffic" -j ACCEPT',
    '-A TSK-NET-FORWARD -d 10.42.0.0/16 -m comment --comment "tsk pod traffic" -j ACCEPT',
    'COMMIT',
    '*nat',
    ':TSK-NET-POSTROUTING - [0:0]',
    '-A TSK-NET-POSTROUTING -s 10.42.0.0/16 -d 10.42.0.0/16 -m comment --comment "tsk pod to pod: no masquerade" -j RETURN',
    '-A TSK-NET-POSTROUTING -s 10.42.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "tsk pod to outside: masquerade" -j MASQUERADE --random-fully',
    '-A TSK-NET-POSTROUTING ! -s 10.42.0.0/16 -d 10.42.1.0/24 -m comment --comment "tsk host to local pods" -j RETURN',
    '-A TSK-NET-POSTROUTING ! -s 10.42.0.0/16 -d 10.42.0.0/16 -m comment --comment "tsk host to remote pods: masquerade" -j MASQUERADE --random-fully',
    'COMMIT',
    '',
  ].join('\n'));
});

t.test('cleanup removes devices, cluster routes and chains', async (t) => {
  const r = new RecordingRunner()
    .on('iptables --version', { stdout: 'iptables v1.8.9 (nf_tables)' })
    .on('ip -4 route show', { stdout: 'default via 192.168.1.254 dev eth0\n10.42.1.0/24 via 192.168.1.2 dev eth0\n10.42.0.0/24 dev cni0 proto kernel scope link src 10.42.0.1\n192.168.9.0/24 via 192.168.1.3 dev eth0\n' })
    .on('iptables-nft-save -t nat', { stdout: '*nat\n:POSTROUTING ACCEPT [0:0]\n:TSK-NET-POSTROUTING - [0:0]\n:CNI-HOSTPORT-MASQ - [0:0]\n-A POSTROUTING -m comment --comment "tsk pod masquerade" -j TSK-NET-POSTROUTING\n-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ\nCOMMIT\n' });
  await cleanupNetwork(r, { clusterCidr: '10.42.0.0/16' });
  const l = r.lines();
  t.ok(l.includes('ip link del cni0'));
  t.ok(l.includes('ip link del tsk.vxlan'));
  t.ok(l.includes('ip route del 10.42.1.0/24'));
  t.notOk(l.includes('ip route del 192.168.9.0/24'));
  const input = r.calls.find((c) => c.cmd === 'iptables-nft-restore' && c.input)!.input!;
  t.match(input, /-X TSK-NET-POSTROUTING/);
  t.match(input, /-X CNI-HOSTPORT-MASQ/);
  t.match(input, /-D POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ/);
});
