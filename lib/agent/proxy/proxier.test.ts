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

t.test('later syncs write only the changed chains, none when nothing changed, all after recheckJumps', async (t) => {
  const r = new RecordingRunner().on('iptables --version', { stdout: 'iptables v1.8.9 (nf_tables)\n' });
  const a = new ProxyApplier(r);
  await a.apply(state(['10.42.0.2']));
  t.ok(r.lines().some((l) => l.startsWith('iptables-nft-save')), 'the first sync lists existing chains');
  r.calls.length = 0;

  await a.apply(state(['10.42.0.2', '10.42.0.3']));
  t.notOk(r.lines().some((l) => l.startsWith('iptables-nft-save')), 'no iptables-save on a partial sync');
  const text = r.calls.find((c) => c.cmd === 'iptables-nft-restore')!.input!;
  t.match(text, /DNAT --to-destination 10.42.0.3:53/, 'the new endpoint chain is written');
  t.notMatch(text, /DNAT --to-destination 10.42.0.2:53/, 'the unchanged endpoint chain is not');
  t.notMatch(text, /TSK-MARK-MASQ - \[0:0\]/, 'fixed chains that did not change are not named');
  t.notMatch(text, /\*filter/, 'an unchanged table is left out');
  r.calls.length = 0;

  await a.apply(state(['10.42.0.2', '10.42.0.3']));
  t.notOk(r.lines().some((l) => l.includes('restore')), 'nothing changed: no restore at all');

  await a.apply(state(['10.42.0.3']));
  const removal = r.calls.find((c) => c.cmd === 'iptables-nft-restore')!.input!;
  t.match(removal, /^-X TSK-SEP-/m, 'the endpoint chain that went away is deleted');
  r.calls.length = 0;

  a.recheckJumps();
  await a.apply(state(['10.42.0.3']));
  t.ok(r.lines().some((l) => l.startsWith('iptables-nft-save')), 'a full resync lists chains again');
  t.match(r.calls.find((c) => c.cmd === 'iptables-nft-restore')!.input!, /TSK-MARK-MASQ - \[0:0\]/, 'and writes every chain');
});

t.test('a failed restore makes the next sync a full one', async (t) => {
  const r = new RecordingRunner().on('iptables --version', { stdout: 'iptables v1.8.9 (nf_tables)\n' });
  const a = new ProxyApplier(r);
  await a.apply(state(['10.42.0.2']));
  r.on('iptables-nft-restore', { code: 4, stderr: 'iptables-restore: line 3 failed' });
  await t.rejects(a.apply(state(['10.42.0.4'])));
  r.calls.length = 0;
  r.on('iptables-nft-restore', { code: 0 });
  await a.apply(state(['10.42.0.4']));
  t.ok(r.lines().some((l) => l.startsWith('iptables-nft-save')), 'full sync after the failure');
});
