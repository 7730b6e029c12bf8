// Strategies of the non-core groups through the real registry (memory store, in-process client).
import t from 'tap';
import { ApiError, type KubeObject, type ResourceRef } from '../../client/types.ts';
import { FakeClock } from '../../clock.ts';
import { MemoryStore } from '../../store/memory.ts';
import { createRegistry } from '../registry/index.ts';
import { horizontalpodautoscalers } from './autoscaling.ts';
import { builtinStrategies } from './index.ts';

const ref = (group: string, version: string, resource: string): ResourceRef => ({ group, version, resource });
const NOW = Date.parse('2026-01-01T00:00:00Z');

async function setup(t: { teardown(fn: () => unknown): void }) {
  const store = new MemoryStore();
  const clock = new FakeClock(NOW);
  const { client } = createRegistry({ store, clock, bookmarkIntervalMs: 50 });
  t.teardown(() => store.close());
  await client.create(ref('', 'v1', 'namespaces'), { metadata: { name: 'default' } });
  return client;
}
const strategy = (plural: string) => builtinStrategies.find((s) => s.plural === plural)!;
const cells = (plural: string, o: KubeObject) => strategy(plural).cells!(o, NOW + 65_000);

const deployment = (labels = { app: 'web' }): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
  spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } },
});

t.test('deployments: defaults, validation, columns, strategic patch', async (t) => {
  const client = await setup(t);
  const d = await client.create<KubeObject>(ref('apps', 'v1', 'deployments'), deployment(), 'default');
  t.same(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  t.equal(d.spec.replicas, 1);
  t.equal(d.spec.revisionHistoryLimit, 10);
  t.equal(d.spec.progressDeadlineSeconds, 600);
  t.equal(d.metadata.labels, undefined, 'apps/v1 does not copy template labels');
  t.equal(d.spec.template.spec.restartPolicy, 'Always');
  t.same(cells('deployments', d), ['web', '0/1', 0, 0, '65s', 'nginx', 'nginx:1.27', 'app=web']);
  await t.rejects(client.create(ref('apps', 'v1', 'deployments'), { ...deployment({ app: 'other' }), metadata: { name: 'bad' } }, 'default'), { code: 422, message: /selector` does not match template `labels`/ });
  const patched = await client.patch<KubeObject>(ref('apps', 'v1', 'deployments'), 'web', 'strategic', {
    spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ name: 'nginx', image: 'nginx:1.28' }] } } },
  }, { namespace: 'default' });
  t.equal(patched.spec.template.spec.containers[0].image, 'nginx:1.28');
  t.equal(patched.spec.template.spec.containers[0].terminationMessagePath, '/dev/termination-log', 'merged, not replaced');
  t.equal(patched.metadata.generation, 2);
});

t.test('replicasets, daemonsets, statefulsets, controllerrevisions', async (t) => {
  const client = await setup(t);
  const tpl = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'img:1' }] } };
  const rs = await client.create<KubeObject>(ref('apps', 'v1', 'replicasets'), { metadata: { name: 'rs' }, spec: { selector: { matchLabels: { app: 'a' } }, template: tpl } }, 'default');
  t.same(cells('replicasets', rs), ['rs', 1, 0, 0, '65s', 'c', 'img:1', 'app=a']);
  const ds = await client.create<KubeObject>(ref('apps', 'v1', 'daemonsets'), { metadata: { name: 'ds' }, spec: { selector: { matchLabels: { app: 'a' } }, template: tpl } }, 'default');
  t.same(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  t.same(cells('daemonsets', ds), ['ds', 0, 0, 0, 0, 0, '<none>', '65s', 'c', 'img:1', 'app=a']);
  await t.rejects(client.create(ref('apps', 'v1', 'daemonsets'), { metadata: { name: 'bad' }, spec: { selector: { matchLabels: { app: 'a' } }, template: { ...tpl, spec: { ...tpl.spec, restartPolicy: 'Never' } } } }, 'default'), { code: 422 });
  const sts = await client.create<KubeObject>(ref('apps', 'v1', 'statefulsets'), { metadata: { name: 'db' }, spec: { serviceName: 'db', selector: { matchLabels: { app: 'a' } }, template: tpl } }, 'default');
  t.equal(sts.spec.podManagementPolicy, 'OrderedReady');
  t.same(cells('statefulsets', sts), ['db', '0/1', '65s', 'c', 'img:1']);
  await t.rejects(client.update(ref('apps', 'v1', 'statefulsets'), { ...sts, spec: { ...sts.spec, serviceName: 'other' } }), { code: 422, message: /Forbidden: updates to statefulset spec/ });
  const scaled = await client.update<KubeObject>(ref('apps', 'v1', 'statefulsets'), { ...sts, spec: { ...sts.spec, replicas: 3 } });
  t.equal(scaled.spec.replicas, 3);
  const cr = await client.create<KubeObject>(ref('apps', 'v1', 'controllerrevisions'), {
    metadata: { name: 'ds-1', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', uid: ds.metadata.uid!, controller: true }] }, revision: 1, data: {},
  }, 'default');
  t.same(cells('controllerrevisions', cr), ['ds-1', 'daemonset.apps/ds', 1, '65s']);
});

t.test('jobs and cronjobs', async (t) => {
  const client = await setup(t);
  const job = await client.create<KubeObject>(ref('batch', 'v1', 'jobs'), {
    metadata: { name: 'pi' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } } },
  }, 'default');
  t.equal(job.spec.completions, 1);
  t.equal(job.spec.parallelism, 1);
  t.equal(job.spec.backoffLimit, 6);
  t.equal(job.spec.completionMode, 'NonIndexed');
  t.same(job.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': job.metadata.uid } });
  t.equal(job.spec.template.metadata.labels['job-name'], 'pi');
  t.equal(job.spec.template.metadata.labels['controller-uid'], job.metadata.uid);
  t.same(cells('jobs', job).slice(0, 4), ['pi', 'Running', '0/1', '']);
  await t.rejects(client.create(ref('batch', 'v1', 'jobs'), { metadata: { name: 'x' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }] } } } }, 'default'),
    { code: 422, message: /restartPolicy: Unsupported value: "Always"/ });
  const cj = await client.create<KubeObject>(ref('batch', 'v1', 'cronjobs'), {
    metadata: { name: 'c' }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } } },
  }, 'default');
  t.equal(cj.spec.concurrencyPolicy, 'Allow');
  t.equal(cj.spec.successfulJobsHistoryLimit, 3);
  t.same(cells('cronjobs', cj).slice(0, 6), ['c', '*/5 * * * *', '<none>', false, 0, '<none>']);
  await t.rejects(client.create(ref('batch', 'v1', 'cronjobs'), { metadata: { name: 'bad' }, spec: { schedule: 'nope', jobTemplate: cj.spec.jobTemplate } }, 'default'), { code: 422 });
});

t.test('horizontalpodautoscalers: v1 and v2 views of one object', async (t) => {
  const client = await setup(t);
  const v1 = await client.create<KubeObject>(ref('autoscaling', 'v1', 'horizontalpodautoscalers'), {
    apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 },
  }, 'default');
  t.equal(v1.spec.targetCPUUtilizationPercentage, 50);
  const v2 = await client.get<KubeObject>(ref('autoscaling', 'v2', 'horizontalpodautoscalers'), 'web', 'default');
  t.equal(v2.apiVersion, 'autoscaling/v2');
  t.same(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  t.same(cells('horizontalpodautoscalers', v2).slice(0, 6), ['web', 'Deployment/web', 'cpu: <unknown>/50%', '1', 5, 0]);
  const back = await client.get<KubeObject>(ref('autoscaling', 'v1', 'horizontalpodautoscalers'), 'web', 'default');
  t.equal(back.spec.targetCPUUtilizationPercentage, 50);
  t.notOk(back.spec.metrics);
  const hpaV2 = ref('autoscaling', 'v2', 'horizontalpodautoscalers');
  await t.rejects(client.create(hpaV2, { metadata: { name: 'bad' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 0 } }, 'default'), { code: 422, message: /maxReplicas/ });
  const mem = await client.create<KubeObject>(hpaV2, {
    metadata: { name: 'mem' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }] },
  }, 'default');
  t.equal(mem.spec.minReplicas, 1);
  const memV1 = await client.get<KubeObject>(ref('autoscaling', 'v1', 'horizontalpodautoscalers'), 'mem', 'default');
  t.notOk(memV1.spec.targetCPUUtilizationPercentage);
  t.match(memV1.metadata.annotations?.['autoscaling.alpha.kubernetes.io/metrics'], /memory/);
  const roundTrip = horizontalpodautoscalers.convert!(memV1, 'v2');
  t.same(roundTrip.spec.metrics, mem.spec.metrics, 'v2-only metrics survive a v1 round trip');
  t.notOk(roundTrip.metadata.annotations, 'the carrier annotation is removed again');
});

t.test('rbac, policy, networking, storage, coordination, discovery', async (t) => {
  const client = await setup(t);
  const rbac = (r: string) => ref('rbac.authorization.k8s.io', 'v1', r);
  await client.create(rbac('roles'), { metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }, 'default');
  await t.rejects(client.create(rbac('roles'), { metadata: { name: 'bad' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }] }, 'default'), { code: 422 });
  const rb = await client.create<KubeObject>(rbac('rolebindings'), {
    metadata: { name: 'rb' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
    subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'sa', namespace: 'default' }],
  }, 'default');
  t.equal(rb.subjects[0].apiGroup, 'rbac.authorization.k8s.io');
  t.same(cells('rolebindings', rb), ['rb', 'Role/reader', '65s', 'alice', '', 'default/sa']);
  await t.rejects(client.update(rbac('rolebindings'), { ...rb, roleRef: { ...rb.roleRef, name: 'other' } }), { code: 422, message: /immutable/ });
  await t.rejects(client.create(ref('policy', 'v1', 'poddisruptionbudgets'), { metadata: { name: 'p' }, spec: { minAvailable: 1, maxUnavailable: 1 } }, 'default'), { code: 422 });
  const pdb = await client.create<KubeObject>(ref('policy', 'v1', 'poddisruptionbudgets'), { metadata: { name: 'p' }, spec: { minAvailable: '50%', selector: { matchLabels: { a: 'b' } } } }, 'default');
  t.same(cells('poddisruptionbudgets', pdb).slice(0, 4), ['p', '50%', 'N/A', 0]);
  const ing = await client.create<KubeObject>(ref('networking.k8s.io', 'v1', 'ingresses'), {
    metadata: { name: 'i' }, spec: { rules: [{ host: 'a.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }] },
  }, 'default');
  t.same(cells('ingresses', ing).slice(0, 5), ['i', '<none>', 'a.example', '', '80']);
  await t.rejects(client.create(ref('networking.k8s.io', 'v1', 'ingresses'), { metadata: { name: 'j' }, spec: { rules: [{ http: { paths: [{ path: '/', backend: { service: { name: 's', port: { number: 80 } } } }] } }] } }, 'default'), { code: 422, message: /pathType/ });
  const np = await client.create<KubeObject>(ref('networking.k8s.io', 'v1', 'networkpolicies'), { metadata: { name: 'n' }, spec: { podSelector: { matchLabels: { a: 'b' } } } }, 'default');
  t.same(np.spec.policyTypes, ['Ingress']);
  const sc = await client.create<KubeObject>(ref('storage.k8s.io', 'v1', 'storageclasses'), { metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'rancher.io/local-path' });
  t.same(cells('storageclasses', sc).slice(0, 5), ['local-path (default)', 'rancher.io/local-path', 'Delete', 'Immediate', false]);
  const lease = await client.create<KubeObject>(ref('coordination.k8s.io', 'v1', 'leases'), { metadata: { name: 'l' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15 } }, 'default');
  t.same(cells('leases', lease), ['l', 'me', '65s']);
  const slice = await client.create<KubeObject>(ref('discovery.k8s.io', 'v1', 'endpointslices'), {
    metadata: { name: 's-1' }, addressType: 'IPv4', ports: [{ port: 80 }], endpoints: [{ addresses: ['10.42.0.1'] }, { addresses: ['10.42.0.2'] }, { addresses: ['10.42.0.3'] }, { addresses: ['10.42.0.4'] }],
  }, 'default');
  t.same(cells('endpointslices', slice).slice(0, 4), ['s-1', 'IPv4', '80', '10.42.0.1,10.42.0.2,10.42.0.3 + 1 more...']);
  void ApiError;
});

t.test('scheduling, node, admissionregistration, storage extras', async (t) => {
  const client = await setup(t);
  const pcRef = ref('scheduling.k8s.io', 'v1', 'priorityclasses');
  const { systemPriorityClasses } = await import('./scheduling.ts');
  for (const pc of systemPriorityClasses) await client.create(pcRef, pc);
  await t.rejects(client.create(pcRef, { metadata: { name: 'system-mine' }, value: 5 }), { code: 422 });
  await t.rejects(client.create(pcRef, { metadata: { name: 'huge' }, value: 2_000_000_000 }), { code: 422 });
  const pc = await client.create<KubeObject>(pcRef, { metadata: { name: 'high' }, value: 1000 });
  t.same(cells('priorityclasses', pc), ['high', 1000, false, '65s', 'PreemptLowerPriority']);
  const rc = await client.create<KubeObject>(ref('node.k8s.io', 'v1', 'runtimeclasses'), { metadata: { name: 'gvisor' }, handler: 'runsc' });
  t.same(cells('runtimeclasses', rc), ['gvisor', 'runsc', '65s']);
  const wh = await client.create<KubeObject>(ref('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations'), {
    metadata: { name: 'v' }, webhooks: [{ name: 'a.example.com', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { service: { name: 's', namespace: 'default' } } }],
  });
  t.equal(wh.webhooks[0].failurePolicy, 'Fail');
  t.equal(wh.webhooks[0].clientConfig.service.port, 443);
  await t.rejects(client.create(ref('admissionregistration.k8s.io', 'v1', 'mutatingwebhookconfigurations'), { metadata: { name: 'm' }, webhooks: [{ name: 'x' }] }), { code: 422 });
  const csi = await client.create<KubeObject>(ref('storage.k8s.io', 'v1', 'csidrivers'), { metadata: { name: 'd' }, spec: {} });
  t.equal(csi.spec.attachRequired, true);
});

t.test('apiservices', async (t) => {
  const client = await setup(t);
  const r = ref('apiregistration.k8s.io', 'v1', 'apiservices');
  const a = await client.create<KubeObject>(r, {
    metadata: { name: 'v1beta1.example.io' },
    spec: { group: 'example.io', version: 'v1beta1', service: { namespace: 'kube-system', name: 'ext' }, groupPriorityMinimum: 100, versionPriority: 100, insecureSkipTLSVerify: true },
  });
  t.equal(a.spec.service.port, 443);
  t.same(cells('apiservices', a), ['v1beta1.example.io', 'kube-system/ext', 'Unknown', '65s']);
  await t.rejects(client.create(r, { metadata: { name: 'wrong' }, spec: { group: 'example.io', version: 'v1', groupPriorityMinimum: 100, versionPriority: 100 } }), { code: 422 });
});
