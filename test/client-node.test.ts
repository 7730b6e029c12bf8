// The real client library @kubernetes/client-node against the in-process secure API server (TLS verified with the
// admin kubeconfig startSecureServer writes): list, watch, create, patch (merge and strategic), delete.
import t from 'tap';
import * as k8s from '@kubernetes/client-node';
import { startSecureApi } from './secure-api.ts';

const { kubeconfig } = await startSecureApi(t, 'tsk-client-node-');

const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
const coreApi = kc.makeApiClient(k8s.CoreV1Api);
const appsApi = kc.makeApiClient(k8s.AppsV1Api);

t.test('list namespaces and version', async (t) => {
  const list = await coreApi.listNamespace();
  t.ok(list.items.some((n) => n.metadata?.name === 'default'), 'default namespace listed');
  t.ok(list.metadata?.resourceVersion, 'list resourceVersion');
  const v = await kc.makeApiClient(k8s.VersionApi).getCode();
  t.equal(v.major, '1');
});

t.test('create, get, patch and delete a configmap', async (t) => {
  const created = await coreApi.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cn', labels: { app: 'x' } }, data: { a: '1' } } });
  t.equal(created.metadata?.name, 'cn');
  t.ok(created.metadata?.uid);
  const merged = await coreApi.patchNamespacedConfigMap({ name: 'cn', namespace: 'default', body: { data: { b: '2' } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  t.same(merged.data, { a: '1', b: '2' });
  const json = await coreApi.patchNamespacedConfigMap({ name: 'cn', namespace: 'default', body: [{ op: 'replace', path: '/data/a', value: '9' }] },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch));
  t.equal(json.data?.a, '9');
  const got = await coreApi.readNamespacedConfigMap({ name: 'cn', namespace: 'default' });
  t.same(got.data, { a: '9', b: '2' });
  const sel = await coreApi.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'app=x' });
  t.same(sel.items.map((c) => c.metadata?.name), ['cn']);
  await coreApi.deleteNamespacedConfigMap({ name: 'cn', namespace: 'default' });
  await t.rejects(coreApi.readNamespacedConfigMap({ name: 'cn', namespace: 'default' }), { code: 404 });
});

t.test('deployment create and strategic merge patch', async (t) => {
  const dep = await appsApi.createNamespacedDeployment({ namespace: 'default', body: {
    metadata: { name: 'web' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } } },
  } });
  t.equal(dep.spec?.strategy?.type, 'RollingUpdate', 'defaulted');
  const patched = await appsApi.patchNamespacedDeployment({ name: 'web', namespace: 'default', body: { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch));
  t.equal(patched.spec?.template.spec?.containers[0]?.image, 'nginx:2');
  t.equal(patched.metadata?.generation, 2);
});

t.test('watch sees ADDED and MODIFIED and DELETED', async (t) => {
  const seen: string[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => { resolveDone = r; });
  const w = new k8s.Watch(kc);
  const list = await coreApi.listNamespacedConfigMap({ namespace: 'default' });
  const req = await w.watch('/api/v1/namespaces/default/configmaps', { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
    (phase, obj) => {
      if (obj?.metadata?.name !== 'watched') return;
      seen.push(phase);
      if (phase === 'DELETED') resolveDone();
    },
    () => resolveDone());
  t.teardown(() => req.abort());
  await coreApi.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'watched' }, data: { a: '1' } } });
  await coreApi.patchNamespacedConfigMap({ name: 'watched', namespace: 'default', body: { data: { a: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  await coreApi.deleteNamespacedConfigMap({ name: 'watched', namespace: 'default' });
  await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
  t.same(seen, ['ADDED', 'MODIFIED', 'DELETED']);
});

t.test('informer lists then follows changes', async (t) => {
  const path = '/api/v1/namespaces/default/secrets';
  const inf = k8s.makeInformer(kc, path, () => coreApi.listNamespacedSecret({ namespace: 'default' }));
  const added: string[] = [];
  inf.on('add', (o: k8s.V1Secret) => { added.push(o.metadata!.name!); });
  await inf.start();
  t.teardown(() => inf.stop());
  await coreApi.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 's1' }, stringData: { k: 'v' } } });
  const deadline = Date.now() + 30_000;
  while (!added.includes('s1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.ok(added.includes('s1'), 'informer saw the new secret');
  t.ok(inf.list('default').some((s) => s.metadata?.name === 's1'));
});
