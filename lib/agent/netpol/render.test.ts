import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { renderNetpol } from './render.ts';
import type { KubeObject } from '../../client/types.ts';

const pod = (ns: string, name: string, ip: string, node: string, labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, namespace: ns, labels },
  spec: { nodeName: node, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }], ...extra },
  status: { podIP: ip, phase: 'Running' },
});

const inputs = {
  nodeName: 'n1',
  namespaces: [{ metadata: { name: 'app', labels: { team: 'a' } } }, { metadata: { name: 'other', labels: { team: 'b' } } }],
  pods: [
    pod('app', 'server', '10.42.0.10', 'n1', { app: 'web' }),
    pod('app', 'client', '10.42.0.11', 'n1', { role: 'client' }),
    pod('other', 'remote', '10.42.1.5', 'n2', { role: 'client' }),
    pod('app', 'hostnet', '192.168.1.2', 'n1', { app: 'web' }, { hostNetwork: true }),
    pod('app', 'unrelated', '10.42.0.12', 'n1', { app: 'db' }),
  ],
  policies: [
    {
      metadata: { name: 'web-ingress', namespace: 'app' },
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { role: 'client' } } }, { namespaceSelector: { matchLabels: { team: 'b' } }, podSelector: {} }], ports: [{ port: 'http' }] },
          { from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] } }] },
        ],
      },
    },
    {
      metadata: { name: 'client-egress', namespace: 'app' },
      spec: {
        podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }, { ports: [{ protocol: 'UDP', port: 53 }] }],
      },
    },
  ] as KubeObject[],
};

t.test('golden', async (t) => {
  const got = renderNetpol(inputs, ['TSK-NP-I-STALESTALESTALE', 'TSK-NP-FORWARD', 'TSK-SERVICES']);
  const file = new URL('./testdata/policies.golden', import.meta.url);
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, got);
  t.equal(got, readFileSync(file, 'utf8'));
});

t.test('no policies: only the fixed chains', async (t) => {
  t.equal(renderNetpol({ ...inputs, policies: [] }), [
    '*filter', ':TSK-NP-FORWARD - [0:0]', ':TSK-NP-ALLOW - [0:0]',
    '-A TSK-NP-ALLOW -j MARK --set-xmark 0x10000/0x10000',
    '-A TSK-NP-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
    'COMMIT', '',
  ].join('\n'));
});

t.test('deny-all ingress policy: a chain with only REJECT', async (t) => {
  const out = renderNetpol({ ...inputs, policies: [{ metadata: { name: 'deny', namespace: 'app' }, spec: { podSelector: {} } }] });
  t.equal((out.match(/-j REJECT/g) ?? []).length, 3, 'three local app pods, hostNetwork pod excluded');
  t.notMatch(out, /TSK-NP-ALLOW$/m);
});
