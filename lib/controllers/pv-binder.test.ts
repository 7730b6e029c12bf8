import t from 'tap';
import { FakeClient } from '../client/fake.ts';
import { core, type KubeObject, type ResourceRef } from '../client/types.ts';
import { Cache, type Lister } from '../controller/cache.ts';
import { BIND_COMPLETED, findMatchingVolume, PVC_PROTECTION, reconcileBinderKey, type BinderDeps } from './pv-binder.ts';
import { localPathStorageClass, localPathVolume, reconcileLocalPath, STORAGE_DIR_ANNOTATION, type LocalPathDeps } from './local-path.ts';

const pvcsRef = core('persistentvolumeclaims');
const pvsRef = core('persistentvolumes');
const classesRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };

/** A lister reading the fake client's current objects (an always-synced informer). */
function live(client: FakeClient, ref: ResourceRef): Lister {
  const snap = () => { const c = new Cache(); for (const o of client.objects(ref)) c.put(o); return c; };
  return { get: (n, ns) => snap().get(n, ns), getByKey: (k) => snap().getByKey(k), list: (ns, sel) => snap().list(ns, sel), byIndex: (i, v) => snap().byIndex(i, v) };
}

function setup(): { client: FakeClient; deps: BinderDeps & LocalPathDeps } {
  const client = new FakeClient();
  const deps = { client, pvcs: live(client, pvcsRef), pvs: live(client, pvsRef), classes: live(client, classesRef), nodes: live(client, core('nodes')) };
  return { client, deps };
}

const claim = (name: string, over: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject => ({
  metadata: { name, namespace: 'default', uid: `u-${name}`, ...(annotations ? { annotations } : {}) },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem', ...over },
  status: { phase: 'Pending' },
});

const volume = (name: string, size: string, over: Record<string, unknown> = {}, labels?: Record<string, string>): KubeObject => ({
  metadata: { name, ...(labels ? { labels } : {}) },
  spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem', hostPath: { path: `/tmp/${name}` }, ...over },
  status: { phase: 'Pending' },
});

const get = (client: FakeClient, ref: ResourceRef, name: string) => client.objects(ref).find((o) => o.metadata.name === name);

t.test('findMatchingVolume: smallest fitting volume of the class, modes and selector', async (t) => {
  const pvs = [volume('big', '10Gi'), volume('small', '2Gi'), volume('tiny', '500Mi'), volume('other', '1Gi', { storageClassName: 'x' }),
    volume('rwx', '1Gi', { accessModes: ['ReadWriteMany'] }), volume('taken', '1Gi', { claimRef: { namespace: 'default', name: 'z', uid: 'u-z' } })];
  t.equal(findMatchingVolume(claim('a'), pvs)?.metadata.name, 'small');
  t.equal(findMatchingVolume(claim('a', { storageClassName: 'x' }), pvs)?.metadata.name, 'other');
  t.equal(findMatchingVolume(claim('a', { resources: { requests: { storage: '20Gi' } } }), pvs), undefined);
  const labelled = [...pvs, volume('fast', '5Gi', {}, { tier: 'fast' })];
  t.equal(findMatchingVolume(claim('a', { selector: { matchLabels: { tier: 'fast' } } }), labelled)?.metadata.name, 'fast');
  t.equal(findMatchingVolume(claim('z'), pvs)?.metadata.name, 'taken', 'a volume pre-bound to the claim wins');
  const pinned = [volume('n1', '1Gi', { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } } })];
  t.equal(findMatchingVolume(claim('a'), pinned, { metadata: { name: 'n2', labels: { 'kubernetes.io/hostname': 'n2' } } }), undefined);
  t.equal(findMatchingVolume(claim('a'), pinned, { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } })?.metadata.name, 'n1');
});

t.test('binds an immediate claim to an Available volume; phases and annotations', async (t) => {
  const { client, deps } = setup();
  client.seed(pvsRef, volume('pv1', '5Gi'));
  client.seed(pvcsRef, claim('data'));
  await reconcileBinderKey(deps, 'pv:pv1');
  t.equal(get(client, pvsRef, 'pv1')!.status.phase, 'Available');
  await reconcileBinderKey(deps, 'pvc:default/data');
  const pv = get(client, pvsRef, 'pv1')!;
  const pvc = get(client, pvcsRef, 'data')!;
  t.equal(pv.status.phase, 'Bound');
  t.match(pv.spec.claimRef, { namespace: 'default', name: 'data', uid: pvc.metadata.uid });
  t.equal(pvc.spec.volumeName, 'pv1');
  t.equal(pvc.metadata.annotations?.[BIND_COMPLETED], 'yes');
  t.same(pvc.status, { phase: 'Bound', capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'] });
  const n = client.actions.length;
  await reconcileBinderKey(deps, 'pvc:default/data');
  await reconcileBinderKey(deps, 'pv:pv1');
  t.equal(client.actions.length, n, 'nothing more to write');
});

t.test('a claim without a matching volume stays Pending', async (t) => {
  const { client, deps } = setup();
  client.seed(pvcsRef, claim('data', {}, undefined));
  client.seed(pvsRef, volume('small', '100Mi'));
  await reconcileBinderKey(deps, 'pvc:default/data');
  t.equal(get(client, pvcsRef, 'data')!.spec.volumeName, undefined);
  t.same(client.actions.filter((a) => a.resource === 'persistentvolumes'), []);
});

t.test('WaitForFirstConsumer: local-path provisions on the selected node, then the binder binds', async (t) => {
  const { client, deps } = setup();
  client.seed(classesRef, localPathStorageClass());
  client.seed(core('nodes'), { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' }, annotations: { [STORAGE_DIR_ANNOTATION]: '/data/storage' } } });
  client.seed(pvcsRef, claim('www', { storageClassName: 'local-path' }));
  // No node chosen yet: nobody acts.
  await reconcileLocalPath(deps, 'default/www');
  await reconcileBinderKey(deps, 'pvc:default/www');
  t.same(client.actions.filter((a) => a.verb !== 'update' || a.subresource !== 'status'), []);
  t.equal(get(client, pvcsRef, 'www')!.status.phase, 'Pending');
  // The scheduler picked n1.
  await client.patch(pvcsRef, 'www', 'merge', { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'n1' } } }, { namespace: 'default' });
  await reconcileLocalPath(deps, 'default/www');
  const pvName = 'pvc-u-www';
  const pv = get(client, pvsRef, pvName)!;
  t.ok(pv, 'volume created');
  t.equal(pv.spec.hostPath.path, '/data/storage/pvc-u-www_default_www');
  t.equal(pv.spec.hostPath.type, 'DirectoryOrCreate');
  t.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
  t.equal(pv.spec.storageClassName, 'local-path');
  t.same(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, ['n1']);
  await reconcileLocalPath(deps, 'default/www');
  t.equal(client.actions.filter((a) => a.verb === 'create').length, 1, 'created once');
  await reconcileBinderKey(deps, `pv:${pvName}`);
  await reconcileBinderKey(deps, 'pvc:default/www');
  t.equal(get(client, pvcsRef, 'www')!.spec.volumeName, pvName);
  t.equal(get(client, pvcsRef, 'www')!.status.phase, 'Bound');
  t.equal(get(client, pvsRef, pvName)!.status.phase, 'Bound');

  // Claim deleted: reclaim policy Delete removes the volume.
  await client.delete(pvcsRef, 'www', 'default');
  await reconcileBinderKey(deps, `pv:${pvName}`);
  t.equal(get(client, pvsRef, pvName), undefined, 'volume deleted');
});

t.test('Retain: a volume whose claim is gone is Released and not bound again', async (t) => {
  const { client, deps } = setup();
  client.seed(pvsRef, volume('keep', '1Gi'));
  client.seed(pvcsRef, claim('a'));
  await reconcileBinderKey(deps, 'pvc:default/a');
  await client.delete(pvcsRef, 'a', 'default');
  await reconcileBinderKey(deps, 'pv:keep');
  t.equal(get(client, pvsRef, 'keep')!.status.phase, 'Released');
  client.seed(pvcsRef, claim('b'));
  await reconcileBinderKey(deps, 'pvc:default/b');
  t.equal(get(client, pvcsRef, 'b')!.spec.volumeName, undefined);
});

t.test('a claim pre-bound by volumeName binds that volume; a missing bound volume makes it Lost', async (t) => {
  const { client, deps } = setup();
  client.seed(pvsRef, volume('mine', '1Gi'), volume('smaller', '1Gi'));
  client.seed(pvcsRef, claim('a', { volumeName: 'mine' }));
  await reconcileBinderKey(deps, 'pvc:default/a');
  t.equal(get(client, pvsRef, 'mine')!.spec.claimRef.name, 'a');
  t.equal(get(client, pvcsRef, 'a')!.status.phase, 'Bound');
  await client.delete(pvsRef, 'mine');
  await reconcileBinderKey(deps, 'pvc:default/a');
  t.equal(get(client, pvcsRef, 'a')!.status.phase, 'Lost');
});

t.test('localPathVolume: default storage dir, k3s directory naming', async (t) => {
  const pv = localPathVolume(claim('c', { accessModes: ['ReadWriteOncePod'] }), localPathStorageClass(), 'node-a', '/var/lib/tsk/storage/');
  t.equal(pv.metadata.name, 'pvc-u-c');
  t.equal(pv.spec.hostPath.path, '/var/lib/tsk/storage/pvc-u-c_default_c');
  t.same(pv.spec.accessModes, ['ReadWriteOncePod']);
  t.match(pv.spec.claimRef, { name: 'c', namespace: 'default', uid: 'u-c' });
});

t.test('PVC protection: a deleted claim keeps its finalizer while a running pod uses it', async (t) => {
  const { client, deps } = setup();
  const withPods = { ...deps, pods: live(client, core('pods')) };
  client.seed(pvsRef, volume('pv1', '1Gi', { persistentVolumeReclaimPolicy: 'Delete' }));
  client.seed(pvcsRef, claim('data'));
  client.seed(core('pods'), { metadata: { name: 'p', namespace: 'default' }, spec: { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }] }, status: { phase: 'Running' } });
  await reconcileBinderKey(withPods, 'pvc:default/data');
  const bound = get(client, pvcsRef, 'data')!;
  t.same(bound.metadata.finalizers, [PVC_PROTECTION]);
  t.equal(bound.spec.volumeName, 'pv1');
  // Deletion requested (the registry sets deletionTimestamp while finalizers remain).
  await client.update(pvcsRef, { ...bound, metadata: { ...bound.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
  await reconcileBinderKey(withPods, 'pvc:default/data');
  t.same(get(client, pvcsRef, 'data')!.metadata.finalizers, [PVC_PROTECTION], 'kept while the pod runs');
  const p = client.objects(core('pods'))[0]!;
  await client.update(core('pods'), { ...p, status: { phase: 'Succeeded' } }, 'status');
  await reconcileBinderKey(withPods, 'pvc:default/data');
  t.same(get(client, pvcsRef, 'data')!.metadata.finalizers, [], 'released once no pod runs with it');
  t.equal(get(client, pvsRef, 'pv1')!.status.phase, 'Bound', 'the volume is untouched until the claim is gone');
});
