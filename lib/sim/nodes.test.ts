import t from 'tap';
import { FakeClient } from '../client/fake.ts';
import { coordination, core, type KubeObject } from '../client/types.ts';
import { COMPLETE_AFTER_ANNOTATION, completionDelayMs, startSimNodes } from './nodes.ts';

const until = async (what: string, fn: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 400; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};

const pod = (name: string, nodeName: string, extra: Partial<KubeObject['spec']> = {}, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', annotations },
  spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }], ...extra },
});

t.test('completion delay: `true` containers and the annotation', async (t) => {
  t.equal(completionDelayMs(pod('a', 'n', { containers: [{ name: 'c', command: ['true'] }] })), 0);
  t.equal(completionDelayMs(pod('a', 'n', { containers: [{ name: 'c', command: ['sleep', '1'] }] })), undefined);
  t.equal(completionDelayMs(pod('a', 'n', {}, { [COMPLETE_AFTER_ANNOTATION]: '250' })), 250);
});

t.test('registers nodes and leases, runs, completes and deletes pods on simulated nodes only', async (t) => {
  const client = new FakeClient();
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const sim = startSimNodes({ client, count: 2, signal: ac.signal, leaseRenewMs: 60_000 });
  await sim.ready;
  const nodes = client.objects(core('nodes'));
  t.same(nodes.map((n) => n.metadata.name).sort(), ['sim-1', 'sim-2']);
  t.equal(nodes[0]!.status.allocatable.pods, '110');
  t.equal(nodes[0]!.status.conditions.find((c: KubeObject) => c.type === 'Ready').status, 'True');
  t.equal(client.objects(coordination('leases')).length, 2);

  await client.create(core('pods'), pod('web', 'sim-1'), 'default');
  await client.create(core('pods'), pod('job', 'sim-2', { containers: [{ name: 'c', image: 'busybox', command: ['true'] }] }), 'default');
  await client.create(core('pods'), pod('other', 'real-node'), 'default');
  const get = (n: string) => client.get(core('pods'), n, 'default');
  await until('web Running', async () => (await get('web')).status?.phase === 'Running');
  const web = await get('web');
  t.match(web.status, { podIP: /^10\.128\.1\.\d+$/, hostIP: '172.16.0.1' });
  t.ok(web.status.conditions.every((c: KubeObject) => c.status === 'True'));
  t.equal(web.status.containerStatuses[0].ready, true);
  await until('job Succeeded', async () => (await get('job')).status?.phase === 'Succeeded');
  t.equal((await get('job')).status.containerStatuses[0].state.terminated.exitCode, 0);
  t.equal((await get('other')).status, undefined, 'pods of other nodes are left alone');

  await client.patch(core('pods'), 'web', 'merge', { metadata: { deletionTimestamp: new Date().toISOString() } }, { namespace: 'default' });
  await until('web deleted', async () => !(await get('web').catch(() => undefined)));

  // A stopped node ignores its pods; resuming takes them to Running.
  sim.stopHeartbeat('sim-2');
  await client.create(core('pods'), pod('late', 'sim-2'), 'default');
  await new Promise((r) => setTimeout(r, 100));
  t.equal((await get('late')).status, undefined);
  await sim.resumeHeartbeat('sim-2');
  await until('late Running', async () => (await get('late')).status?.phase === 'Running');
  t.ok(sim.stats().running >= 2);
});
