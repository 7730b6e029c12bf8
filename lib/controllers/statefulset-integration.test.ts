// The workload controllers (DaemonSet, StatefulSet, Job, CronJob, PDB, HPA) with the scheduler over the real registry
// (memory store, in-process client) and a stand-in kubelet: rollouts finish with the status kubectl waits for.
import t from 'tap';
import { apps, batch, core, type Client, type KubeObject } from '../client/types.ts';
import { MemoryStore } from '../store/memory.ts';
import { createRegistry } from '../server/registry/index.ts';
import { bootstrapObjects } from '../server/registry/bootstrap.ts';
import { startControllers } from './manager.ts';

async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** Bound pods become Running/Ready (job pods Succeeded); pods being deleted are removed. */
function fakeKubelet(client: Client, signal: AbortSignal): void {
  void (async () => {
    while (!signal.aborted) {
      const pods = (await client.list(core('pods'))).items;
      for (const p of pods) {
        try {
          if (p.metadata.deletionTimestamp) {
            if (p.status?.phase === 'Running') await client.update(core('pods'), { ...p, status: { ...p.status, phase: 'Failed', conditions: [] } }, 'status');
            else await client.delete(core('pods'), p.metadata.name!, p.metadata.namespace, { gracePeriodSeconds: 0 });
          } else if (p.spec?.nodeName && !p.status?.phase?.match(/Running|Succeeded|Failed/)) {
            const job = !!p.metadata.labels?.['batch.kubernetes.io/job-name'];
            const conditions = job ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: stamp(Date.now() - 60_000) }];
            const containerStatuses = job ? [{ name: 'c', state: { terminated: { exitCode: 0, finishedAt: stamp(Date.now()) } } }] : [];
            await client.update(core('pods'), { ...p, status: { phase: job ? 'Succeeded' : 'Running', podIP: '10.42.0.9', conditions, containerStatuses } }, 'status');
          }
        } catch { /* raced with a controller; next pass */ }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
}

const get = (client: Client, ref: ReturnType<typeof apps>, name: string) => client.get(ref, name, 'default').catch(() => undefined);

t.test('workload controllers over the real registry', async (t) => {
  const store = new MemoryStore();
  const { client } = createRegistry({ store, bookmarkIntervalMs: 1000 });
  await bootstrapObjects(client, { serviceCidr: '10.43.0.0/16' });
  await client.create(core('nodes'), {
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1', labels: { 'kubernetes.io/hostname': 'node1' } },
    status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, capacity: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: stamp(Date.now()) }] },
  });
  const ac = new AbortController();
  const m = startControllers({ client, signal: ac.signal, leaderElection: { identity: 'server-1' } });
  t.teardown(async () => { ac.abort(); await m.stop(); await store.close(); });
  fakeKubelet(client, ac.signal);
  await m.ready;

  // Claims wait for their first consumer (as with k3s's local-path class), so the scheduler places the pods.
  await client.create({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local' }, provisioner: 'tsk.io/local', volumeBindingMode: 'WaitForFirstConsumer' });
  const tmpl = (image: string) => ({ metadata: { labels: { app: 'w' } }, spec: { containers: [{ name: 'c', image }] } });
  await client.create(apps('daemonsets'), { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'd' } }, template: { ...tmpl('a:1'), metadata: { labels: { app: 'd' } } } } }, 'default');
  await client.create(apps('statefulsets'), {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 2, serviceName: 'web', selector: { matchLabels: { app: 'w' } }, template: tmpl('n:1'), volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { storageClassName: 'local', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] },
  }, 'default');
  await client.create(batch('jobs'), { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default' }, spec: { completions: 2, parallelism: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'b' }] } } } }, 'default');
  await client.create({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' }, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'pdb', namespace: 'default' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'w' } } } }, 'default');

  await until('daemonset rolled out', async () => {
    const d = await get(client, apps('daemonsets'), 'd');
    return d?.status?.numberAvailable === 1 && d.status.updatedNumberScheduled === 1 && d.status.observedGeneration === d.metadata.generation;
  });
  await until('statefulset ready', async () => {
    const s = await get(client, apps('statefulsets'), 'web');
    return s?.status?.readyReplicas === 2 && s.status.currentRevision === s.status.updateRevision;
  });
  const claims = (await client.list(core('persistentvolumeclaims'), { namespace: 'default' })).items.map((c: KubeObject) => c.metadata.name).sort();
  t.same(claims, ['data-web-0', 'data-web-1']);
  await until('job complete', async () => {
    const j = await get(client, batch('jobs'), 'j');
    return !!j?.status?.conditions?.some((c: { type: string }) => c.type === 'Complete') && j.status.succeeded === 2;
  });
  const jobPods = (await client.list(core('pods'), { namespace: 'default', labelSelector: 'job-name=j' })).items;
  t.ok(jobPods.every((p: KubeObject) => !p.metadata.finalizers?.length), 'tracking finalizers released');
  await until('pdb allows one disruption', async () => {
    const b = await client.get({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' }, 'pdb', 'default').catch(() => undefined);
    return b?.status?.disruptionsAllowed === 1 && b.status.currentHealthy === 2;
  });

  // Rolling updates.
  const ds = (await get(client, apps('daemonsets'), 'd'))!;
  ds.spec.template.spec.containers[0].image = 'a:2';
  await client.update(apps('daemonsets'), ds);
  const sts = (await get(client, apps('statefulsets'), 'web'))!;
  sts.spec.template.spec.containers[0].image = 'n:2';
  await client.update(apps('statefulsets'), sts);
  await until('daemonset updated', async () => {
    const d = await get(client, apps('daemonsets'), 'd');
    const pods = (await client.list(core('pods'), { namespace: 'default', labelSelector: 'app=d' })).items;
    return d?.status?.updatedNumberScheduled === 1 && d.status.numberAvailable === 1 && d.status.observedGeneration === d.metadata.generation
      && pods.length === 1 && pods[0]!.spec.containers[0].image === 'a:2';
  });
  await until('statefulset updated', async () => {
    const s = await get(client, apps('statefulsets'), 'web');
    const pods = (await client.list(core('pods'), { namespace: 'default', labelSelector: 'app=w' })).items;
    return s?.status?.updatedReplicas === 2 && s.status.readyReplicas === 2 && s.status.currentRevision === s.status.updateRevision
      && pods.length === 2 && pods.every((p: KubeObject) => p.spec.containers[0].image === 'n:2');
  });
  const revs = (await client.list(apps('controllerrevisions'), { namespace: 'default' })).items;
  t.equal(revs.length, 4, 'two revisions each');
});
