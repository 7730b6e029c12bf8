import t from 'tap';
import { FakeClient } from '../client/fake.ts';
import { core } from '../client/types.ts';
import { Cache } from '../controller/cache.ts';
import { lbIngress, portConflict, reconcileServiceLb, startServiceLb } from './servicelb.ts';
import type { KubeObject } from '../client/types.ts';

const node = (name: string, ready: boolean, addrs: [string, string][], labels?: Record<string, string>): KubeObject => ({
  metadata: { name, ...(labels ? { labels } : {}) },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], addresses: addrs.map(([type, address]) => ({ type, address })) },
});

t.test('lbIngress: Ready nodes, ExternalIP preferred, label pool', async (t) => {
  const nodes = [
    node('a', true, [['InternalIP', '10.0.0.2'], ['Hostname', 'a']]),
    node('b', true, [['InternalIP', '10.0.0.3'], ['ExternalIP', '203.0.113.3']]),
    node('c', false, [['InternalIP', '10.0.0.4']]),
  ];
  t.same(lbIngress(nodes).map((i) => i.ip), ['10.0.0.2', '203.0.113.3']);
  nodes[0]!.metadata.labels = { 'svccontroller.tsk.io/enablelb': 'true' };
  t.same(lbIngress(nodes).map((i) => i.ip), ['10.0.0.2']);
});

const lbSvc = (over: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'web', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }], ...over },
});

t.test('reconcile writes status once; skips other classes and types', async (t) => {
  const client = new FakeClient();
  client.seed(core('services'), lbSvc(), { metadata: { name: 'other', namespace: 'default' }, spec: { type: 'LoadBalancer', loadBalancerClass: 'x' } },
    { metadata: { name: 'cip', namespace: 'default' }, spec: { type: 'ClusterIP' } });
  const services = new Cache();
  for (const s of client.objects(core('services'))) services.put(s);
  const nodes = new Cache();
  nodes.put(node('a', true, [['InternalIP', '10.0.0.2']]));
  const deps = { client, services, nodes };
  for (const k of ['default/web', 'default/other', 'default/cip', 'default/missing']) await reconcileServiceLb(deps, k);
  t.same(client.actions.map((a) => `${a.verb} ${a.name} ${a.subresource}`), ['update web status']);
  t.same(client.objects(core('services')).find((s) => s.metadata.name === 'web')!.status.loadBalancer.ingress, [{ ip: '10.0.0.2', ipMode: 'VIP' }]);
  services.put(client.objects(core('services')).find((s) => s.metadata.name === 'web')!);
  await reconcileServiceLb(deps, 'default/web');
  t.equal(client.actions.length, 1, 'no write when unchanged');
});

t.test('standalone controller follows node changes', async (t) => {
  const client = new FakeClient();
  client.seed(core('services'), lbSvc());
  client.seed(core('nodes'), node('a', true, [['InternalIP', '10.0.0.2']]));
  const ac = new AbortController();
  const done = startServiceLb({ client, signal: ac.signal });
  t.teardown(async () => { ac.abort(); await done; });
  const ips = async (want: string[]) => {
    for (let i = 0; i < 300; i++) {
      const got = (client.objects(core('services'))[0]!.status?.loadBalancer?.ingress ?? []).map((x: { ip: string }) => x.ip);
      if (JSON.stringify(got) === JSON.stringify(want)) return got;
      await new Promise((r) => setTimeout(r, 20));
    }
    return client.objects(core('services'))[0]!.status?.loadBalancer?.ingress;
  };
  t.same(await ips(['10.0.0.2']), ['10.0.0.2']);
  await client.create(core('nodes'), node('b', true, [['InternalIP', '10.0.0.3']]));
  t.same(await ips(['10.0.0.2', '10.0.0.3']), ['10.0.0.2', '10.0.0.3']);
});

t.test('port conflicts leave the younger service pending', async (t) => {
  const a = { metadata: { name: 'a', namespace: 'x', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } };
  const b = { metadata: { name: 'b', namespace: 'x', creationTimestamp: '2026-01-02T00:00:00Z' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }, { port: 443 }] } };
  const c = { metadata: { name: 'c', namespace: 'x', creationTimestamp: '2026-01-03T00:00:00Z' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'UDP' }] } };
  const all = [a, b, c];
  t.equal(portConflict(a, all), undefined);
  t.equal(portConflict(b, all)?.metadata.name, 'a');
  t.equal(portConflict(c, all), undefined, 'UDP 80 does not clash with TCP 80');
});
