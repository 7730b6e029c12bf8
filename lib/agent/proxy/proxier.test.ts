import t from 'tap';
import { RecordingRunner } from '../exec/runner.ts';
import { ProxyApplier } from './proxier.ts';
import { cleanupProxyRules } from './cleanup.ts';
import type { ProxyState } from './types.ts';

const state = (eps: string[]): ProxyState => ({
  services: [{
    namespace: 'kube-system', name: 'dns', portName: 'dns', protocol: 'UDP', clusterIP: '10.43.0.10', port: 53,
    externalIPs: [], loadBalancerIPs: [], internalLocal: false, externalLocal: false,
    endpoints: eps.map((ip) => ({ ip, port: 53, local: true })),
  }],
});

t.test('applier detects the backend, restores, installs jumps once, flushes UDP conntrack', async (t) => {
  const r = new RecordingRunner()
    .on('iptables --version', { stdout: 'iptables v1.8.9 (nf_tables)\n' })
    .on('iptables-nft -w 5 -t nat -C', { code: 1 })
    .on('iptables-nft -w 5 -t filter -C', { code: 1 });
  const a = new ProxyApplier(r);
  await a.apply(state(['10.42.0.2']));
  const lines = r.lines();
  t.ok(lines.includes('iptables-nft-restore --noflush -w 5'));
  t.equal(lines.filter((l) => l.includes(' -I ')).length, 9, 'nine jump rules inserted');
  t.match(r.calls.find((c) => c.cmd === 'iptables-nft-restore' && c.input)!.input!, /DNAT --to-destination 10.42.0.2:53/);
  r.calls.length = 0;
  await a.apply(state([]));
  t.equal(r.lines().filter((l) => l.includes(' -I ') || l.includes(' -C ')).length, 0, 'jumps not re-checked');
  t.ok(r.lines().includes('conntrack -D -p udp --orig-dst 10.43.0.10 --dst-nat 10.42.0.2'));
});

t.test('cleanup deletes jumps into TSK- chains and the chains, nothing else', async (t) => {
  const save = [
    '*nat', ':PREROUTING ACCEPT [0:0]', ':TSK-SERVICES - [0:0]', ':TSK-SVC-ABC - [0:0]', ':KUBE-X - [0:0]', ':TSK-NP-X - [0:0]',
    '-A PREROUTING -m comment --comment "tsk service portals" -j TSK-SERVICES', '-A PREROUTING -j KUBE-X',
    '-A TSK-SERVICES -j TSK-SVC-ABC', 'COMMIT', '',
  ].join('\n');
  const r = new RecordingRunner()
    .on('iptables --version', { stdout: 'iptables v1.8.9 (legacy)' })
    .on('iptables-legacy-save -t nat', { stdout: save })
    .on('iptables-legacy-save -t filter', { stdout: '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n' });
  await cleanupProxyRules(r);
  const inputs = r.calls.filter((c) => c.cmd === 'iptables-legacy-restore' && c.input).map((c) => c.input);
  t.equal(inputs.length, 1);
  t.equal(inputs[0], [
    '*nat', ':TSK-SERVICES - [0:0]', ':TSK-SVC-ABC - [0:0]',
    '-D PREROUTING -m comment --comment "tsk service portals" -j TSK-SERVICES',
    '-X TSK-SERVICES', '-X TSK-SVC-ABC', 'COMMIT', '',
  ].join('\n'));
});
