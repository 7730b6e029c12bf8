// The manager: leader election and controller start on a FakeClient; then every controller, the scheduler and
// leader election together over the real registry (memory store, in-process client), with a stand-in kubelet.
import t from 'tap';
import { apps, core, coordination, discovery, type Client } from '../client/types.ts';
import { FakeClient } from '../client/fake.ts';
import { startControllers } from './manager.ts';
import { registryWithNodes, stamp, standInKubelet, startManager, until, untilQuiet } from './registry-fixture.ts';


t.test('leads, starts controllers on synced informers, stops and releases', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), { metadata: { name: 'n' } });
  const ac = new AbortController();
  const runs: string[] = [];
  const m = startControllers({
    client, signal: ac.signal, leaderElection: { identity: 'me' },
    controllers: {
      probe: (ctx) => {
        const nodes = ctx.factory.informer(core('nodes'));
        return { run: async (signal) => { runs.push(`run ${nodes.lister.list().length}`); await new Promise((r) => signal.addEventListener('abort', r)); runs.push('stopped'); } };
      },
      off: () => { throw new Error('disabled controllers are not initialised'); },
    },
    disabled: ['off'],
  });
  await m.ready;
  for (let i = 0; i < 100 && !runs.length; i++) await new Promise((r) => setImmediate(r));
  t.same(runs, ['run 1']);
  t.ok(m.isLeader);
  await m.stop();
  t.same(runs, ['run 1', 'stopped']);
  const lease = await client.get(coordination('leases'), 'tsk-controllers', 'kube-system');
  t.notOk(lease.spec.holderIdentity);
});

/** Bound pods get Running/Ready with an IP; ones being deleted are removed. */
function fakeKubelet(client: Client, signal: AbortSignal): void {
  let ip = 10;
  standInKubelet(client, signal, async (p) => {
    if (p.metadata.deletionTimestamp && p.spec?.nodeName) await client.delete(core('pods'), p.metadata.name!, p.metadata.namespace, { gracePeriodSeconds: 0 });
    else if (p.spec?.nodeName && !p.status?.podIP) {
      await client.update(core('pods'), { ...p, status: { phase: 'Running', podIP: `10.42.0.${ip++}`, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: stamp(Date.now() - 60_000) }] } }, 'status');
    }
  });
}

t.test('deployment to ready pods with endpoints; foreground deletion; namespace deletion', async (t) => {
  const { store, client } = await registryWithNodes({ name: 'node1', heartbeat: true });
  // The node's lease declares an hour, so a slow machine cannot make the node lifecycle controller call it dead.
  await client.create(coordination('leases'), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'node1', leaseDurationSeconds: 3600, renewTime: new Date().toISOString().replace('Z', '000Z') } }, 'kube-node-lease');
  const { m, signal } = startManager(t, store, client, { caPem: 'CA-PEM', resyncMs: 200 });
  fakeKubelet(client, signal);
  await m.ready;
  t.ok(m.isLeader);

  await until('default service account and root CA', async () => {
    const sa = await client.get(core('serviceaccounts'), 'default', 'default').catch(() => undefined);
    const cm = await client.get(core('configmaps'), 'kube-root-ca.crt', 'default').catch(() => undefined);
    return !!sa && cm?.data?.['ca.crt'] === 'CA-PEM';
  });

  await client.create(apps('deployments'), {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 80 }] }] } } },
  }, 'default');
  await client.create(core('services'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } }, 'default');
  await until('deployment available', async () => {
    const d = await client.get(apps('deployments'), 'web', 'default');
    return d.status?.availableReplicas === 3 && d.status?.updatedReplicas === 3 && d.status?.observedGeneration === d.metadata.generation;
  });
  const pods = (await client.list(core('pods'), { namespace: 'default' })).items;
  t.equal(pods.length, 3);
  t.ok(pods.every((p) => p.spec.nodeName === 'node1'), 'scheduled');
  await until('endpoints and slices', async () => {
    const ep = await client.get(core('endpoints'), 'web', 'default').catch(() => undefined);
    const slices = (await client.list(discovery('endpointslices'), { namespace: 'default', labelSelector: 'kubernetes.io/service-name=web' })).items;
    return ep?.subsets?.[0]?.addresses?.length === 3 && slices[0]?.endpoints?.length === 3;
  });
  const lease = await client.get(coordination('leases'), 'tsk-controllers', 'kube-system');
  t.equal(lease.spec.holderIdentity, 'server-1');

  // Idle: nothing writes once settled, across several informer resyncs (leader lease renewals are every 40 s).
  // Settling may take a moment on a loaded machine; a quiet second (five resyncs) must come and stay quiet.
  t.ok(await untilQuiet(store), 'no store writes while idle');
  const rev = store.currentRevision();
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(store.currentRevision(), rev, 'still none a second later');

  // Foreground deletion: the garbage collector removes the ReplicaSet and pods before the Deployment goes.
  await client.delete(apps('deployments'), 'web', 'default', { propagationPolicy: 'Foreground' });
  await until('deployment and dependents gone', async () => {
    const d = await client.get(apps('deployments'), 'web', 'default').catch(() => undefined);
    const rs = (await client.list(apps('replicasets'), { namespace: 'default' })).items;
    const ps = (await client.list(core('pods'), { namespace: 'default' })).items;
    return !d && rs.length === 0 && ps.length === 0;
  });

  // Background deletion (kubectl's default): the owner goes at once, the collector removes the rest.
  await client.create(apps('replicasets'), {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'bg', namespace: 'default' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'bg' } }, template: { metadata: { labels: { app: 'bg' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  }, 'default');
  await until('bg pods', async () => (await client.list(core('pods'), { namespace: 'default', labelSelector: 'app=bg' })).items.length === 2);
  await client.delete(apps('replicasets'), 'bg', 'default', { propagationPolicy: 'Background' });
  await until('bg pods collected', async () => (await client.list(core('pods'), { namespace: 'default', labelSelector: 'app=bg' })).items.length === 0);

  // Namespace deletion empties it and removes the kubernetes finalizer.
  await client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch' } });
  await client.create(core('configmaps'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'scratch' }, data: {} }, 'scratch');
  await until('scratch SA', async () => !!(await client.get(core('serviceaccounts'), 'default', 'scratch').catch(() => undefined)));
  await client.delete(core('namespaces'), 'scratch');
  await until('namespace gone', async () => !(await client.get(core('namespaces'), 'scratch').catch(() => undefined)));

  await m.stop();
  const released = await client.get(coordination('leases'), 'tsk-controllers', 'kube-system');
  t.notOk(released.spec.holderIdentity, 'lease released on stop');
});
