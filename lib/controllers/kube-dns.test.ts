import t from 'tap';
import { FakeClient } from '../client/fake.ts';
import { core, discovery } from '../client/types.ts';
import { reconcileKubeDns } from './kube-dns.ts';

const lister = (c: FakeClient, ref: ReturnType<typeof core>) => ({
  get: (name: string, ns?: string) => c.objects(ref).find((o) => o.metadata.name === name && (o.metadata.namespace ?? undefined) === ns),
  list: () => c.objects(ref),
});

t.test('a node gets its kube-dns EndpointSlice at InternalIP:53, removed with the node', async (t) => {
  const c = new FakeClient();
  c.seed(core('nodes'), { metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.5' }] } });
  const deps = { client: c, nodes: lister(c, core('nodes')) as never, slices: lister(c, discovery('endpointslices')) as never };
  await reconcileKubeDns(deps, 'n1');
  const s = c.objects(discovery('endpointslices'))[0]!;
  t.equal(s.metadata.name, 'kube-dns-n1');
  t.same(s.endpoints[0].addresses, ['10.0.0.5']);
  t.equal(s.ports[0].port, 53);
  await reconcileKubeDns(deps, 'n1');
  t.equal(c.actions.length, 1, 'an existing slice is left to the node');
  await c.delete(core('nodes'), 'n1');
  await reconcileKubeDns(deps, 'n1');
  t.equal(c.objects(discovery('endpointslices')).length, 0);
});
