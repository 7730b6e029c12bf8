import t from 'tap';
import { FakeClient } from '../client/fake.ts';
import { core, type KubeObject } from '../client/types.ts';
import { FakeClock } from '../clock.ts';
import { ClientEventRecorder } from '../controller/events.ts';
import { SharedInformerFactory } from '../controller/factory.ts';
import { Scheduler } from './scheduler.ts';

const node = (name: string, cpu = '4'): KubeObject => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {},
  status: { allocatable: { cpu, memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});
const pod = (name: string, cpu = '100m'): KubeObject => ({
  metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu } } }] }, status: { phase: 'Pending' },
});

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

t.test('binds 30 pods created at once quickly and spreads them', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), node('a'), node('b'), node('c'));
  const clock = new FakeClock();
  const factory = new SharedInformerFactory({ client, clock });
  const s = new Scheduler({ client, factory, clock });
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  factory.start(ac.signal);
  const run = s.run(ac.signal);
  await factory.waitForSync();
  const start = Date.now();
  await Promise.all(Array.from({ length: 30 }, (_, i) => client.create(core('pods'), pod(`p${i}`))));
  await until(() => client.objects(core('pods')).every((p) => p.spec?.nodeName));
  const took = Date.now() - start;
  t.ok(took < 15_000, `30 pods bound in ${took} ms (generous bound: the machine may be loaded)`);
  const perNode = new Map<string, number>();
  for (const p of client.objects(core('pods'))) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  t.same([...perNode.values()].sort(), [10, 10, 10], 'spread evenly');
  t.equal(client.actions.filter((a) => a.subresource === 'binding').length, 30, 'one binding each');
  ac.abort();
  await run;
});

t.test('unschedulable pod: event + condition once, scheduled when a node fits', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), node('small', '1'));
  const clock = new FakeClock();
  const factory = new SharedInformerFactory({ client, clock });
  const recorder = new ClientEventRecorder({ client, component: 'default-scheduler', clock });
  const s = new Scheduler({ client, factory, clock, recorder });
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  factory.start(ac.signal);
  const run = s.run(ac.signal);
  await factory.waitForSync();
  await client.create(core('pods'), pod('big', '2'));
  await until(() => client.actions.some((a) => a.subresource === 'status'));
  await recorder.flush();
  const ev = client.objects(core('events'))[0]!;
  t.equal(ev.reason, 'FailedScheduling');
  t.equal(ev.message, '0/1 nodes are available: 1 Insufficient cpu.');
  const p = client.objects(core('pods'))[0]!;
  t.match(p.status.conditions, [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }]);
  // retries with the same outcome write nothing
  const writes = client.actions.length;
  for (let i = 0; i < 5; i++) { clock.advance(60_000); await new Promise((r) => setTimeout(r, 5)); }
  await recorder.flush();
  t.equal(client.actions.length, writes, 'no writes while nothing changes');
  await client.create(core('nodes'), node('large', '4'));
  await until(() => !!client.objects(core('pods'))[0]!.spec.nodeName);
  t.equal(client.objects(core('pods'))[0]!.spec.nodeName, 'large');
  ac.abort();
  await run;
});

t.test('WaitForFirstConsumer claim gets the selected node before the pod is bound; gated pods wait', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), node('only'));
  client.seed({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }, { metadata: { name: 'local-path' }, volumeBindingMode: 'WaitForFirstConsumer' } as KubeObject);
  client.seed(core('persistentvolumeclaims'), { metadata: { name: 'data', namespace: 'default' }, spec: { storageClassName: 'local-path' } });
  const clock = new FakeClock();
  const factory = new SharedInformerFactory({ client, clock });
  const s = new Scheduler({ client, factory, clock });
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  factory.start(ac.signal);
  const run = s.run(ac.signal);
  await factory.waitForSync();
  await client.create(core('pods'), { ...pod('gated'), spec: { ...pod('gated').spec, schedulingGates: [{ name: 'wait' }] } });
  await client.create(core('pods'), { ...pod('p'), spec: { ...pod('p').spec, volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }] } });
  await until(() => !!client.objects(core('pods')).find((p) => p.metadata.name === 'p')?.spec.nodeName);
  const order = client.actions.map((a) => `${a.verb} ${a.resource}${a.subresource ? '/' + a.subresource : ''}`);
  t.same(order.slice(2, 4), ['patch persistentvolumeclaims', 'createSubresource pods/binding']);
  t.equal(client.objects(core('persistentvolumeclaims'))[0]!.metadata.annotations?.['volume.kubernetes.io/selected-node'], 'only');
  t.notOk(client.objects(core('pods')).find((p) => p.metadata.name === 'gated')!.spec.nodeName, 'scheduling gates respected');
  ac.abort();
  await run;
});
