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

/** A scheduler over `client` (seed it first) with a fake clock and an event recorder, running; stop() ends it. */
async function startScheduler(t: { teardown(fn: () => unknown): void }, client: FakeClient, o: { sync?: boolean } = {}) {
  const clock = new FakeClock();
  const factory = new SharedInformerFactory({ client, clock });
  const recorder = new ClientEventRecorder({ client, component: 'default-scheduler', clock });
  const s = new Scheduler({ client, factory, clock, recorder });
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  factory.start(ac.signal);
  const run = s.run(ac.signal);
  if (o.sync !== false) await factory.waitForSync();
  return { clock, recorder, s, stop: async () => { ac.abort(); await run; } };
}

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
  const { stop } = await startScheduler(t, client);
  const start = Date.now();
  await Promise.all(Array.from({ length: 30 }, (_, i) => client.create(core('pods'), pod(`p${i}`))));
  await until(() => client.objects(core('pods')).every((p) => p.spec?.nodeName));
  const took = Date.now() - start;
  t.ok(took < 15_000, `30 pods bound in ${took} ms (generous bound: the machine may be loaded)`);
  const perNode = new Map<string, number>();
  for (const p of client.objects(core('pods'))) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  t.same([...perNode.values()].sort(), [10, 10, 10], 'spread evenly');
  t.equal(client.actions.filter((a) => a.subresource === 'binding').length, 30, 'one binding each');
  await stop();
});

t.test('unschedulable pod: event + condition once, scheduled when a node fits', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), node('small', '1'));
  const { clock, recorder, stop } = await startScheduler(t, client);
  await client.create(core('pods'), pod('big', '2'));
  await until(() => client.actions.some((a) => a.subresource === 'status'));
  await recorder.flush();
  const ev = client.objects(core('events'))[0]!;
  t.equal(ev.reason, 'FailedScheduling');
  t.equal(ev.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
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
  await stop();
});

t.test('WaitForFirstConsumer claim gets the selected node before the pod is bound; gated pods wait', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), node('only'));
  client.seed({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }, { metadata: { name: 'local-path' }, volumeBindingMode: 'WaitForFirstConsumer' } as KubeObject);
  client.seed(core('persistentvolumeclaims'), { metadata: { name: 'data', namespace: 'default' }, spec: { storageClassName: 'local-path' } });
  const { stop } = await startScheduler(t, client);
  await client.create(core('pods'), { ...pod('gated'), spec: { ...pod('gated').spec, schedulingGates: [{ name: 'wait' }] } });
  await client.create(core('pods'), { ...pod('p'), spec: { ...pod('p').spec, volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }] } });
  await until(() => !!client.objects(core('pods')).find((p) => p.metadata.name === 'p')?.spec.nodeName);
  const order = client.actions.map((a) => `${a.verb} ${a.resource}${a.subresource ? '/' + a.subresource : ''}`);
  t.same(order.slice(2, 4), ['patch persistentvolumeclaims', 'createSubresource pods/binding']);
  t.equal(client.objects(core('persistentvolumeclaims'))[0]!.metadata.annotations?.['volume.kubernetes.io/selected-node'], 'only');
  t.notOk(client.objects(core('pods')).find((p) => p.metadata.name === 'gated')!.spec.nodeName, 'scheduling gates respected');
  await stop();
});

t.test('preemption: victims marked and deleted with a Preempted event, preemptor nominated then bound; Never waits', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), node('only', '2'));
  const low = (name: string, prio = 0) => ({ ...pod(name, '1'), metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { ...pod(name, '1').spec, nodeName: 'only', priority: prio }, status: { phase: 'Running', startTime: '2026-01-01T00:00:00Z' } });
  client.seed(core('pods'), low('low-a', 1), low('low-b', 5));
  const { clock, recorder, stop } = await startScheduler(t, client);
  const never = { ...pod('never', '1'), spec: { ...pod('never', '1').spec, priority: 100, preemptionPolicy: 'Never' } };
  await client.create(core('pods'), never);
  await until(() => client.objects(core('events')).some((e) => e.involvedObject?.name === 'never') || (recorder.pending.size > 0));
  await recorder.flush();
  t.match(client.objects(core('events')).find((e) => e.involvedObject?.name === 'never')?.message, /preemption: not eligible due to preemptionPolicy=Never\.$/);
  t.equal(client.objects(core('pods')).length, 3, 'Never does not preempt');
  await client.delete(core('pods'), 'never', 'default');
  const hi = { ...pod('hi', '1'), spec: { ...pod('hi', '1').spec, priority: 100 } };
  const created = await client.create(core('pods'), hi);
  await until(() => client.objects(core('pods')).find((p) => p.metadata.name === 'hi')?.spec.nodeName === 'only');
  await recorder.flush();
  const names = client.objects(core('pods')).map((p) => p.metadata.name).sort();
  t.same(names, ['hi', 'low-b'], 'only the lowest-priority pod was preempted');
  const marked = client.actions.find((a) => a.verb === 'patch' && a.name === 'low-a' && a.subresource === 'status');
  t.match(marked?.object, { status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }] } });
  const ev = client.objects(core('events')).find((e) => e.reason === 'Preempted');
  t.match(ev, { involvedObject: { name: 'low-a' }, type: 'Normal', message: `Preempted by pod ${created.metadata.uid} on node only` });
  const nominated = client.actions.find((a) => a.verb === 'patch' && a.name === 'hi' && a.subresource === 'status');
  t.equal(nominated?.object?.status?.nominatedNodeName, 'only', 'nominatedNodeName set on the preemptor');
  await stop();
});

t.test('pending pods are scheduled higher priority first, then in arrival order', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), { ...node('one', '3'), status: { ...node('one', '3').status, allocatable: { cpu: '3', memory: '8Gi', pods: '2' } } });
  const withPrio = (name: string, priority: number) => ({ ...pod(name, '1'), spec: { ...pod(name, '1').spec, priority, preemptionPolicy: 'Never' } });
  client.seed(core('pods'), withPrio('low-1', 1), withPrio('mid', 5), withPrio('low-2', 1), withPrio('high', 9));
  const { stop } = await startScheduler(t, client, { sync: false });
  await until(() => client.actions.filter((a) => a.subresource === 'binding').length === 2);
  await new Promise((r) => setTimeout(r, 20));
  t.same(client.actions.filter((a) => a.subresource === 'binding').map((a) => a.name), ['high', 'mid'], 'two pod slots: the two highest priorities');
  await stop();
});

t.test('per-node infos are reused between cycles but follow pod changes: bound elsewhere, finished, deleted', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), node('one', '1'));
  const { s, stop } = await startScheduler(t, client);
  const first = s.snapshot()[0]!;
  t.equal(s.snapshot()[0], first, 'nothing changed: the same info object');

  // A pod bound by someone else (nodeName set at create) takes the whole CPU.
  await client.create(core('pods'), { ...pod('static', '1'), spec: { ...pod('static', '1').spec, nodeName: 'one' } });
  await until(() => s.snapshot()[0]!.requested.cpu === 1000);
  await client.create(core('pods'), pod('waiting', '500m'));
  await until(() => client.objects(core('events')).some((e) => e.reason === 'FailedScheduling') || client.actions.some((a) => a.subresource === 'status'));
  t.notOk(client.objects(core('pods')).find((p) => p.metadata.name === 'waiting')!.spec.nodeName, 'no room');

  // It finishes: its requests no longer count, and the waiting pod is bound.
  const st = client.objects(core('pods')).find((p) => p.metadata.name === 'static')!;
  await client.update(core('pods'), { ...st, status: { phase: 'Succeeded' } }, 'status');
  await until(() => !!client.objects(core('pods')).find((p) => p.metadata.name === 'waiting')!.spec.nodeName);
  await until(() => s.snapshot()[0]!.requested.cpu === 500);

  // Deleting the bound pod frees its room in the cached info.
  await client.delete(core('pods'), 'waiting', 'default');
  await until(() => s.snapshot()[0]!.requested.cpu === undefined || s.snapshot()[0]!.requested.cpu === 0);
  t.equal(s.snapshot()[0]!.pods.length, 0, 'no pods left on the node');
  await stop();
});
