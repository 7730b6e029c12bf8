import t from 'tap';
import { FakeClient } from '../../client/fake.ts';
import { core, discovery } from '../../client/types.ts';
import { ensureKubeDnsService } from './kube-dns.ts';

t.test('creates the Service and the node EndpointSlice once; repairs a changed slice', async (t) => {
  const c = new FakeClient();
  await ensureKubeDnsService(c, { nodeName: 'n1', nodeIp: '192.168.1.5' });
  const svc = c.objects(core('services'))[0]!;
  t.equal(svc.spec.clusterIP, '10.43.0.10');
  t.same(svc.spec.ports.map((p: { port: number; protocol: string }) => `${p.port}/${p.protocol}`), ['53/UDP', '53/TCP', '9153/TCP']);
  const sl = c.objects(discovery('endpointslices'))[0]!;
  t.same([sl.metadata.name, sl.endpoints[0].addresses, sl.endpoints[0].nodeName], ['kube-dns-n1', ['192.168.1.5'], 'n1']);
  const writes = c.actions.length;
  await ensureKubeDnsService(c, { nodeName: 'n1', nodeIp: '192.168.1.5' });
  t.equal(c.actions.length, writes, 'idempotent');
  await ensureKubeDnsService(c, { nodeName: 'n1', nodeIp: '192.168.1.6' });
  t.same(c.objects(discovery('endpointslices'))[0]!.endpoints[0].addresses, ['192.168.1.6']);
  t.equal(c.objects(core('services')).length, 1);
});
