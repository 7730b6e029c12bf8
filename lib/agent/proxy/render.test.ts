import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { renderRules, probability } from './render.ts';
import type { ProxyServicePort, ProxyState } from './types.ts';
import { svcChain } from './names.ts';

const base = (over: Partial<ProxyServicePort>): ProxyServicePort => ({
  namespace: 'default', name: 'web', portName: 'http', protocol: 'TCP', clusterIP: '10.43.0.20', port: 80,
  externalIPs: [], loadBalancerIPs: [], internalLocal: false, externalLocal: false, endpoints: [], ...over,
});

const cases: Record<string, ProxyState> = {
  empty: { clusterCidr: '10.42.0.0/16', services: [] },
  clusterip: {
    clusterCidr: '10.42.0.0/16',
    services: [base({ endpoints: [
      { ip: '10.42.0.5', port: 8080, local: true }, { ip: '10.42.1.6', port: 8080, local: false }, { ip: '10.42.2.7', port: 8080, local: false },
    ] })],
  },
  'no-endpoints': {
    clusterCidr: '10.42.0.0/16',
    services: [base({ name: 'gone', nodePort: 30080, loadBalancerIPs: ['192.168.1.10'] })],
  },
  affinity: {
    clusterCidr: '10.42.0.0/16',
    services: [base({ protocol: 'UDP', portName: 'dns', port: 53, affinitySeconds: 600, endpoints: [
      { ip: '10.42.0.5', port: 53, local: true }, { ip: '10.42.1.6', port: 53, local: false },
    ] })],
  },
  'nodeport-lb': {
    clusterCidr: '10.42.0.0/16',
    services: [base({ name: 'lb', nodePort: 30080, loadBalancerIPs: ['192.168.1.10'], externalIPs: ['203.0.113.9'], endpoints: [
      { ip: '10.42.1.6', port: 8080, local: false },
    ] })],
  },
  'lb-source-ranges': {
    clusterCidr: '10.42.0.0/16',
    services: [base({ name: 'lb', nodePort: 30080, loadBalancerIPs: ['192.168.1.10'], sourceRanges: ['192.168.0.0/24', '10.0.0.0/8'], endpoints: [
      { ip: '10.42.1.6', port: 8080, local: false },
    ] })],
  },
  'local-policies': {
    clusterCidr: '10.42.0.0/16',
    services: [
      base({ name: 'itp', internalLocal: true, endpoints: [{ ip: '10.42.0.5', port: 8080, local: true }, { ip: '10.42.1.6', port: 8080, local: false }] }),
      base({ name: 'itp-none', clusterIP: '10.43.0.21', internalLocal: true, endpoints: [{ ip: '10.42.1.6', port: 8080, local: false }] }),
      base({ name: 'etp', clusterIP: '10.43.0.22', nodePort: 30081, externalLocal: true, endpoints: [{ ip: '10.42.0.5', port: 8080, local: true }, { ip: '10.42.1.6', port: 8080, local: false }] }),
      base({ name: 'etp-none', clusterIP: '10.43.0.23', nodePort: 30082, externalLocal: true, endpoints: [{ ip: '10.42.1.6', port: 8080, local: false }] }),
    ],
  },
};

for (const [name, state] of Object.entries(cases)) {
  t.test(`golden ${name}`, async (t) => {
    const got = renderRules(state);
    const file = new URL(`./testdata/${name}.golden`, import.meta.url);
    if (process.env.UPDATE_GOLDEN) writeFileSync(file, got);
    t.equal(got, readFileSync(file, 'utf8'));
  });
}

t.test('stale dynamic chains are flushed and deleted, foreign chains untouched', async (t) => {
  const keep = svcChain(cases.clusterip!.services[0]!);
  const got = renderRules(cases.clusterip!, { nat: ['PREROUTING', keep, 'TSK-SVC-OLDOLDOLDOLDOLD', 'TSK-SEP-AAAA', 'TSK-NP-X', 'KUBE-SVC-X'], filter: ['TSK-FW-X'] });
  t.match(got, /:TSK-SVC-OLDOLDOLDOLDOLD - \[0:0\][^]*-X TSK-SVC-OLDOLDOLDOLDOLD\nCOMMIT\n$/);
  t.match(got, /-X TSK-SEP-AAAA/);
  t.match(got, /-X TSK-FW-X/);
  t.notMatch(got, /-X (TSK-NP-X|KUBE-SVC-X|PREROUTING)/);
  t.notMatch(got, new RegExp(`-X ${keep}`));
});

t.test('probabilities are uniform overall', async (t) => {
  t.same([0, 1, 2].map((i) => probability(i, 3)), ['0.3333333333', '0.5000000000', '1.0000000000']);
});

t.test('rendering is deterministic regardless of input order', async (t) => {
  const s = cases['local-policies']!;
  t.equal(renderRules({ ...s, services: [...s.services].reverse() }), renderRules(s));
});
