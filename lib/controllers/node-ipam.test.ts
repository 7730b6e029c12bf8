import t from 'tap';
import { FakeClient } from '../client/fake.ts';
import { core } from '../client/types.ts';
import { allocatePodCidr, startNodeIpam } from './node-ipam.ts';

t.test('allocator', async (t) => {
  t.equal(allocatePodCidr('10.42.0.0/16', []), '10.42.0.0/24');
  t.equal(allocatePodCidr('10.42.0.0/16', ['10.42.0.0/24', '10.42.2.0/24']), '10.42.1.0/24');
  t.equal(allocatePodCidr('10.42.0.0/23', ['10.42.0.0/24', '10.42.1.0/24']), undefined, 'full');
  t.equal(allocatePodCidr('10.42.0.0/16', ['fd00::/64', 'junk']), '10.42.0.0/24');
  t.equal(allocatePodCidr('10.42.0.0/16', [], 25), '10.42.0.0/25');
  t.throws(() => allocatePodCidr('10.42.0.0/24', [], 16));
});

t.test('controller gives every node its own /24 and keeps existing ones', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), { metadata: { name: 'a' }, spec: { podCIDR: '10.42.0.0/24', podCIDRs: ['10.42.0.0/24'] } }, { metadata: { name: 'b' }, spec: {} }, { metadata: { name: 'c' } });
  const ac = new AbortController();
  const done = startNodeIpam({ client, clusterCidr: '10.42.0.0/16', signal: ac.signal });
  t.teardown(async () => { ac.abort(); await done; });
  const cidrs = () => Object.fromEntries(client.objects(core('nodes')).map((n) => [n.metadata.name, n.spec?.podCIDR]));
  for (let i = 0; i < 500 && Object.values(cidrs()).some((v) => !v); i++) await new Promise((r) => setTimeout(r, 20));
  const got = cidrs();
  t.equal(got.a, '10.42.0.0/24');
  t.same(new Set([got.b, got.c]), new Set(['10.42.1.0/24', '10.42.2.0/24']));
  await client.create(core('nodes'), { metadata: { name: 'd' } });
  for (let i = 0; i < 500 && !cidrs().d; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(cidrs().d, '10.42.3.0/24');
});
