import t from 'tap';
import { apps, batch, core, type Client, type KubeObject } from '../client/types.ts';
import { FakeClock } from '../clock.ts';
import { hashOf, revisionData } from './controller-revision.ts';
import { listerOf, readyCondition, seeded, verbs } from './controller-revision-fixtures.ts';
import { reconcileStatefulSet, type StatefulSetDeps } from './statefulset.ts';
import { registryWithNodes, stamp, standInKubelet, startManager, until } from './registry-fixture.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } };
const oldTemplate = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } };
const NEW = `web-${hashOf(revisionData(template))}`;
const OLD = 'web-old';
const owner = [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-uid', controller: true }];

function sts(spec: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'sts-uid', generation: 1 },
    spec: {
      replicas: 3, serviceName: 'web', selector: { matchLabels: { app: 'web' } }, template,
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}
const rev = (name: string, tmpl: unknown, n: number): KubeObject => ({
  metadata: { name, namespace: 'default', labels: { app: 'web', 'controller-revision-hash': name.slice(4) }, ownerReferences: owner },
  data: revisionData(tmpl), revision: n,
});
function pod(ord: number, revision: string, ready = true, extra: Partial<KubeObject['metadata']> = {}, phase = 'Running'): KubeObject {
  return {
    metadata: { name: `web-${ord}`, namespace: 'default', uid: `uid-${ord}`, labels: { app: 'web', 'controller-revision-hash': revision }, ownerReferences: owner, ...extra },
    spec: {}, status: { phase, conditions: ready ? [readyCondition()] : [] },
  };
}
const claim = (ord: number): KubeObject => ({ metadata: { name: `data-web-${ord}`, namespace: 'default' }, spec: {} });

function setup(s: KubeObject, pods: KubeObject[] = [], revisions: KubeObject[] = [rev(NEW, template, 2)], claims: KubeObject[] = pods.map((p) => claim(Number(p.metadata.name!.slice(4))))) {
  const { client, listers } = seeded([[apps('statefulsets'), [s]], [core('pods'), pods], [core('persistentvolumeclaims'), claims], [apps('controllerrevisions'), revisions]]);
  const deps: StatefulSetDeps = { client, clock: new FakeClock(NOW), statefulSets: listers[0]!, pods: listers[1]!, claims: listers[2]!, revisions: listers[3]! };
  return { client, deps };
}
const writes = (c: ReturnType<typeof setup>['client']) => verbs(c).filter((v) => !v.includes('/status') && !v.includes('controllerrevisions'));
const statusOf = (c: ReturnType<typeof setup>['client']) => c.actions.find((a) => a.subresource === 'status')?.object?.status;

t.test('OrderedReady creates web-0 with its claim and identity, then waits', async (t) => {
  const { client, deps } = setup(sts(), [], []);
  await reconcileStatefulSet(deps, 'default/web');
  t.same(verbs(client), [`create controllerrevisions ${NEW}`, 'create persistentvolumeclaims data-web-0', 'create pods web-0', 'update statefulsets/status web']);
  const p = client.actions[2]!.object!;
  t.equal(p.spec.hostname, 'web-0');
  t.equal(p.spec.subdomain, 'web');
  t.same(p.spec.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }]);
  t.equal(p.metadata.labels!['controller-revision-hash'], NEW);
  t.equal(p.metadata.labels!['statefulset.kubernetes.io/pod-name'], 'web-0');
  t.equal(p.metadata.labels!['apps.kubernetes.io/pod-index'], '0');
  t.match(statusOf(client), { replicas: 1, readyReplicas: 0, updateRevision: NEW, currentRevision: NEW, observedGeneration: 1 });
});

t.test('the next ordinal starts only when the previous one is ready', async (t) => {
  const ready = setup(sts(), [pod(0, NEW)]);
  await reconcileStatefulSet(ready.deps, 'default/web');
  t.same(writes(ready.client), ['create persistentvolumeclaims data-web-1', 'create pods web-1']);
  const notReady = setup(sts(), [pod(0, NEW, false)]);
  await reconcileStatefulSet(notReady.deps, 'default/web');
  t.same(writes(notReady.client), []);
});

t.test('Parallel creates every pod at once', async (t) => {
  const { client, deps } = setup(sts({ podManagementPolicy: 'Parallel' }));
  await reconcileStatefulSet(deps, 'default/web');
  t.same(writes(client), [0, 1, 2].flatMap((i) => [`create persistentvolumeclaims data-web-${i}`, `create pods web-${i}`]));
});

t.test('scale down removes the highest ordinal first and keeps its claim', async (t) => {
  const { client, deps } = setup(sts({ replicas: 1 }), [pod(0, NEW), pod(1, NEW), pod(2, NEW)]);
  await reconcileStatefulSet(deps, 'default/web');
  t.same(writes(client), ['delete pods web-2']);
  const parallel = setup(sts({ replicas: 1, podManagementPolicy: 'Parallel' }), [pod(0, NEW), pod(1, NEW), pod(2, NEW)]);
  await reconcileStatefulSet(parallel.deps, 'default/web');
  t.same(writes(parallel.client), ['delete pods web-2', 'delete pods web-1']);
});

t.test('rolling update replaces the highest ordinal first, one at a time, respecting the partition', async (t) => {
  const revs = [rev(OLD, oldTemplate, 1), rev(NEW, template, 2)];
  const status = { currentRevision: OLD, updateRevision: NEW };
  const s1 = setup(sts({}, status), [pod(0, OLD), pod(1, OLD), pod(2, OLD)], revs);
  await reconcileStatefulSet(s1.deps, 'default/web');
  t.same(writes(s1.client), ['delete pods web-2']);
  const s2 = setup(sts({}, status), [pod(0, OLD), pod(1, OLD), pod(2, NEW)], revs);
  await reconcileStatefulSet(s2.deps, 'default/web');
  t.same(writes(s2.client), ['delete pods web-1']);
  t.match(statusOf(s2.client), { currentRevision: OLD, updateRevision: NEW, currentReplicas: 1, updatedReplicas: 1 }, 'web-1 is gone now');
  const s3 = setup(sts({}, status), [pod(0, OLD), pod(1, OLD), pod(2, NEW, false)], revs);
  await reconcileStatefulSet(s3.deps, 'default/web');
  t.same(writes(s3.client), [], 'waits for the updated pod to become ready');
  const part = { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } };
  const s4 = setup(sts(part, status), [pod(0, OLD), pod(1, OLD), pod(2, NEW)], revs);
  await reconcileStatefulSet(s4.deps, 'default/web');
  t.same(writes(s4.client), [], 'ordinals below the partition stay');
  const s5 = setup(sts(part, status), [pod(0, OLD), pod(2, NEW)], revs, [claim(0), claim(1), claim(2)]);
  await reconcileStatefulSet(s5.deps, 'default/web');
  t.same(writes(s5.client), ['create pods web-1']);
  t.equal(s5.client.actions.find((a) => a.name === 'web-1')!.object!.spec.containers[0].image, 'nginx:1', 'recreated at the current revision');
});

t.test('a finished rollout makes the update revision current', async (t) => {
  const revs = [rev(OLD, oldTemplate, 1), rev(NEW, template, 2)];
  const { client, deps } = setup(sts({}, { currentRevision: OLD }), [pod(0, NEW), pod(1, NEW), pod(2, NEW)], revs);
  await reconcileStatefulSet(deps, 'default/web');
  t.match(statusOf(client), { replicas: 3, readyReplicas: 3, updatedReplicas: 3, currentReplicas: 3, currentRevision: NEW, updateRevision: NEW, availableReplicas: 3 });
});

t.test('OnDelete does not replace old pods; failed pods are recreated', async (t) => {
  const revs = [rev(OLD, oldTemplate, 1), rev(NEW, template, 2)];
  const od = setup(sts({ updateStrategy: { type: 'OnDelete' } }, { currentRevision: OLD }), [pod(0, OLD), pod(1, OLD), pod(2, OLD)], revs);
  await reconcileStatefulSet(od.deps, 'default/web');
  t.same(writes(od.client), []);
  const failed = setup(sts(), [pod(0, NEW), pod(1, NEW, false, {}, 'Failed'), pod(2, NEW)]);
  await reconcileStatefulSet(failed.deps, 'default/web');
  t.same(writes(failed.client), ['delete pods web-1']);
});

t.test('a rollback re-numbers the equal old revision instead of creating one', async (t) => {
  const revs = [rev(`web-${hashOf(revisionData(template))}`, template, 1), rev('web-mid', oldTemplate, 2)];
  const { client, deps } = setup(sts({}, { currentRevision: 'web-mid' }), [pod(0, 'web-mid'), pod(1, 'web-mid'), pod(2, 'web-mid')], revs);
  await reconcileStatefulSet(deps, 'default/web');
  const u = client.actions.find((a) => a.resource === 'controllerrevisions')!;
  t.equal(u.verb, 'update');
  t.equal(u.object!.revision, 3);
});

t.test('whenScaled: Delete hands the claim to the condemned pod before deleting it', async (t) => {
  const { client, deps } = setup(sts({ replicas: 2, persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete' } }), [pod(0, NEW), pod(1, NEW), pod(2, NEW)]);
  await reconcileStatefulSet(deps, 'default/web');
  t.same(writes(client), ['patch persistentvolumeclaims data-web-2', 'delete pods web-2']);
  t.same(client.actions[0]!.object, { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'web-2', uid: 'uid-2' }] } });
});

// The workload controllers (DaemonSet, StatefulSet, Job, CronJob, PDB, HPA) with the scheduler over the real registry
// (memory store, in-process client) and a stand-in kubelet: rollouts finish with the status kubectl waits for.
/** Bound pods become Running/Ready (job pods Succeeded); pods being deleted are removed. */
function fakeKubelet(client: Client, signal: AbortSignal): void {
  standInKubelet(client, signal, async (p) => {
    if (p.metadata.deletionTimestamp) {
      if (p.status?.phase === 'Running') await client.update(core('pods'), { ...p, status: { ...p.status, phase: 'Failed', conditions: [] } }, 'status');
      else await client.delete(core('pods'), p.metadata.name!, p.metadata.namespace, { gracePeriodSeconds: 0 });
    } else if (p.spec?.nodeName && !p.status?.phase?.match(/Running|Succeeded|Failed/)) {
      const job = !!p.metadata.labels?.['batch.kubernetes.io/job-name'];
      const conditions = job ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: stamp(Date.now() - 60_000) }];
      const containerStatuses = job ? [{ name: 'c', state: { terminated: { exitCode: 0, finishedAt: stamp(Date.now()) } } }] : [];
      await client.update(core('pods'), { ...p, status: { phase: job ? 'Succeeded' : 'Running', podIP: '10.42.0.9', conditions, containerStatuses } }, 'status');
    }
  });
}

const getIn = (client: Client, ref: ReturnType<typeof apps>, name: string) => client.get(ref, name, 'default').catch(() => undefined);

t.test('workload controllers over the real registry', async (t) => {
  const { store, client } = await registryWithNodes({ name: 'node1', heartbeat: true });
  const { m, signal } = startManager(t, store, client);
  fakeKubelet(client, signal);
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
    const d = await getIn(client, apps('daemonsets'), 'd');
    return d?.status?.numberAvailable === 1 && d.status.updatedNumberScheduled === 1 && d.status.observedGeneration === d.metadata.generation;
  });
  await until('statefulset ready', async () => {
    const s = await getIn(client, apps('statefulsets'), 'web');
    return s?.status?.readyReplicas === 2 && s.status.currentRevision === s.status.updateRevision;
  });
  const claims = (await client.list(core('persistentvolumeclaims'), { namespace: 'default' })).items.map((c: KubeObject) => c.metadata.name).sort();
  t.same(claims, ['data-web-0', 'data-web-1']);
  await until('job complete', async () => {
    const j = await getIn(client, batch('jobs'), 'j');
    return !!j?.status?.conditions?.some((c: { type: string }) => c.type === 'Complete') && j.status.succeeded === 2;
  });
  const jobPods = (await client.list(core('pods'), { namespace: 'default', labelSelector: 'job-name=j' })).items;
  t.ok(jobPods.every((p: KubeObject) => !p.metadata.finalizers?.length), 'tracking finalizers released');
  await until('pdb allows one disruption', async () => {
    const b = await client.get({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' }, 'pdb', 'default').catch(() => undefined);
    return b?.status?.disruptionsAllowed === 1 && b.status.currentHealthy === 2;
  });

  // Rolling updates.
  const ds = (await getIn(client, apps('daemonsets'), 'd'))!;
  ds.spec.template.spec.containers[0].image = 'a:2';
  await client.update(apps('daemonsets'), ds);
  const sts = (await getIn(client, apps('statefulsets'), 'web'))!;
  sts.spec.template.spec.containers[0].image = 'n:2';
  await client.update(apps('statefulsets'), sts);
  await until('daemonset updated', async () => {
    const d = await getIn(client, apps('daemonsets'), 'd');
    const pods = (await client.list(core('pods'), { namespace: 'default', labelSelector: 'app=d' })).items;
    return d?.status?.updatedNumberScheduled === 1 && d.status.numberAvailable === 1 && d.status.observedGeneration === d.metadata.generation
      && pods.length === 1 && pods[0]!.spec.containers[0].image === 'a:2';
  });
  await until('statefulset updated', async () => {
    const s = await getIn(client, apps('statefulsets'), 'web');
    const pods = (await client.list(core('pods'), { namespace: 'default', labelSelector: 'app=w' })).items;
    return s?.status?.updatedReplicas === 2 && s.status.readyReplicas === 2 && s.status.currentRevision === s.status.updateRevision
      && pods.length === 2 && pods.every((p: KubeObject) => p.spec.containers[0].image === 'n:2');
  });
  const revs = (await client.list(apps('controllerrevisions'), { namespace: 'default' })).items;
  t.equal(revs.length, 4, 'two revisions each');
});

t.test('a revision our cache has not seen yet is reused, not duplicated', async (t) => {
  const { client, deps } = setup(sts({ replicas: 0 }), [], []);
  await reconcileStatefulSet(deps, 'default/web');
  client.actions.length = 0;
  const again = { ...deps, statefulSets: listerOf(client.objects(apps('statefulsets'))) }; // revisions lister still stale
  await reconcileStatefulSet(again, 'default/web');
  t.same(verbs(client).filter((v) => v.includes('controllerrevisions')), [], 'AlreadyExists, then the existing one is used');
  t.equal(client.objects(apps('controllerrevisions')).length, 1);
  t.equal(client.objects(apps('statefulsets'))[0]!.status.collisionCount, 0);
});
