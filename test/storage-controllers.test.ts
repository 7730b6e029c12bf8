// Storage over the real registry (memory store, in-process client): the default StorageClass and claim defaulting,
// the scheduler's node choice for WaitForFirstConsumer claims, local-path provisioning, binding and reclaim.
import t from 'tap';
import { apps, core, type KubeObject } from '../lib/client/types.ts';
import { registryWithNodes, startManager, until, untilQuiet } from '../lib/controllers/registry-fixture.ts';
import { ensureLocalPathStorageClass, STORAGE_DIR_ANNOTATION } from '../lib/controllers/local-path.ts';
import { NodeAuthorizer } from '../lib/server/auth/node-authorizer.ts';
import { requestAttributes } from '../lib/server/auth/request-info.ts';
import type { UserInfo } from '../lib/server/auth/types.ts';

t.test('PVC of the default class: scheduled pod, provisioned and bound volume, reclaimed on claim deletion', async (t) => {
  const { store, client } = await registryWithNodes({ name: 'node1', annotations: { [STORAGE_DIR_ANNOTATION]: '/srv/tsk/storage' } });
  await ensureLocalPathStorageClass(client);
  await ensureLocalPathStorageClass(client); // idempotent
  const { m } = startManager(t, store, client, { resyncMs: 200, only: ['scheduler', 'persistentvolume-binder', 'local-storage'] });
  await m.ready;

  const pvc = await client.create<KubeObject>(core('persistentvolumeclaims'), {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  }, 'default');
  t.equal(pvc.spec.storageClassName, 'local-path', 'defaulted to the default class');
  const explicitNone = await client.create<KubeObject>(core('persistentvolumeclaims'), {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'none', namespace: 'default' },
    spec: { storageClassName: '', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  }, 'default');
  t.equal(explicitNone.spec.storageClassName, '', '"" keeps no class');

  await client.create(core('pods'), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'writer', namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] },
  }, 'default');
  const pod = await until('pod scheduled', async () => {
    const p = await client.get<KubeObject>(core('pods'), 'writer', 'default');
    return p.spec.nodeName ? p : undefined;
  });
  t.equal(pod.spec.nodeName, 'node1');
  const bound = await until('claim bound', async () => {
    const c = await client.get<KubeObject>(core('persistentvolumeclaims'), 'data', 'default');
    return c.status?.phase === 'Bound' ? c : undefined;
  });
  t.equal(bound.metadata.annotations?.['volume.kubernetes.io/selected-node'], 'node1');
  t.equal(bound.spec.volumeName, `pvc-${pvc.metadata.uid}`);
  t.same(bound.status.capacity, { storage: '1Gi' });
  const pv = await until('volume bound', async () => {
    const v = await client.get<KubeObject>(core('persistentvolumes'), bound.spec.volumeName);
    return v.status?.phase === 'Bound' ? v : undefined;
  });
  t.equal(pv.spec.hostPath.path, `/srv/tsk/storage/pvc-${pvc.metadata.uid}_default_data`);
  t.equal(pv.spec.claimRef.uid, pvc.metadata.uid);
  // Settled: informer resyncs (every 200 ms) write nothing.
  t.ok(await untilQuiet(store), 'no store writes once bound');

  await client.delete(core('pods'), 'writer', 'default', { gracePeriodSeconds: 0 });
  await client.delete(core('persistentvolumeclaims'), 'data', 'default');
  await until('volume deleted', async () => {
    const v = await client.get(core('persistentvolumes'), pv.metadata.name!).catch(() => undefined);
    return !v;
  });
  const none = await client.get<KubeObject>(core('persistentvolumeclaims'), 'none', 'default');
  t.equal(none.status.phase, 'Pending', 'a claim without class and without volumes waits');
});

t.test('StatefulSet claims from volumeClaimTemplates get local-path volumes on their pods\' node', async (t) => {
  const { store, client } = await registryWithNodes({ name: 'node1' }, { name: 'node2' });
  await ensureLocalPathStorageClass(client);
  const { m } = startManager(t, store, client, { resyncMs: 60_000, only: ['scheduler', 'persistentvolume-binder', 'local-storage', 'statefulset'] });
  await m.ready;
  await client.create(apps('statefulsets'), {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default' },
    spec: {
      replicas: 2, serviceName: 'db', podManagementPolicy: 'Parallel', selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  }, 'default');
  for (const i of [0, 1]) {
    const claim = await until(`data-db-${i} bound`, async () => {
      const c = await client.get<KubeObject>(core('persistentvolumeclaims'), `data-db-${i}`, 'default').catch(() => undefined);
      return c?.status?.phase === 'Bound' ? c : undefined;
    });
    t.equal(claim.spec.storageClassName, 'local-path');
    const pod = await until(`db-${i} scheduled`, async () => {
      const p = await client.get<KubeObject>(core('pods'), `db-${i}`, 'default').catch(() => undefined);
      return p?.spec?.nodeName ? p : undefined;
    });
    const pv = await client.get<KubeObject>(core('persistentvolumes'), claim.spec.volumeName);
    t.same(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, [pod.spec.nodeName], 'volume on the pod\'s node');
    t.equal(pv.spec.hostPath.path, `/var/lib/tsk/storage/pvc-${claim.metadata.uid}_default_data-db-${i}`, 'default storage dir without the node annotation');
  }
});

t.test('node authorizer: a node reads the volumes of its pods\' claims, its local-path volumes, and learns deleted ones', async (t) => {
  const pods: KubeObject[] = [{ metadata: { name: 'web', namespace: 'app' }, spec: { nodeName: 'n1', volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }], containers: [] } }];
  const pvs: Record<string, KubeObject> = {
    'pv-data': { metadata: { name: 'pv-data' }, spec: {} },
    'pvc-local-n1': { metadata: { name: 'pvc-local-n1', annotations: { 'local.path.provisioner/selected-node': 'n1' } }, spec: {} },
    'pvc-other': { metadata: { name: 'pvc-other', annotations: { 'local.path.provisioner/selected-node': 'n2' } }, spec: {} },
  };
  const az = new NodeAuthorizer({
    podsOnNode: async (n) => (n === 'n1' ? pods : []),
    claim: async (ns, n) => (ns === 'app' && n === 'data' ? { metadata: { name: 'data', namespace: 'app' }, spec: { volumeName: 'pv-data' } } : undefined),
    volume: async (n) => pvs[n],
  });
  const user = (n: string): UserInfo => ({ username: `system:node:${n}`, groups: ['system:nodes', 'system:authenticated'] });
  const can = async (n: string, url: string, m = 'GET') => (await az.authorize({ user: user(n), ...requestAttributes(m, url) })).decision === 'allow';
  t.ok(await can('n1', '/api/v1/persistentvolumes/pv-data'), 'pod → claim → volume');
  t.notOk(await can('n2', '/api/v1/persistentvolumes/pv-data'));
  t.ok(await can('n1', '/api/v1/persistentvolumes/pvc-local-n1'), 'provisioned on the node');
  t.notOk(await can('n1', '/api/v1/persistentvolumes/pvc-other'));
  t.ok(await can('n1', '/api/v1/persistentvolumes/pvc-gone'), 'a missing volume answers 404');
  t.notOk(await can('n1', '/api/v1/persistentvolumes'), 'no listing');
  t.notOk(await can('n1', '/api/v1/persistentvolumes/pv-data', 'DELETE'));
});
