// Embedded template metadata as Go decodes it: kubectl's `creationTimestamp: null` is not stored (rollout undo must
// give back the exact template of the old ReplicaSet, or the deployment controller makes a new one).
import t from 'tap';
import { apps, batch, core, type KubeObject } from '../../client/types.ts';
import { FakeClock } from '../../clock.ts';
import { MemoryStore } from '../../store/memory.ts';
import { createRegistry } from '../registry/index.ts';
import { podtemplates } from './core-misc.ts';

t.test('creationTimestamp: null is dropped from pod, job and claim templates', async (t) => {
  const store = new MemoryStore();
  t.teardown(() => store.close());
  const { client } = createRegistry({ store, clock: new FakeClock(Date.parse('2026-01-01T00:00:00Z')) });
  await client.create(core('namespaces'), { metadata: { name: 'default' } });
  const tpl = { metadata: { creationTimestamp: null, labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
  const dep = await client.create(apps('deployments'), { metadata: { name: 'd', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'a' } }, template: tpl } } as KubeObject, 'default');
  t.same(dep.spec!.template.metadata, { labels: { app: 'a' } });
  const sts = await client.create(apps('statefulsets'), {
    metadata: { name: 's', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'a' } }, serviceName: 's', template: tpl, volumeClaimTemplates: [{ metadata: { name: 'data', creationTimestamp: null }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] },
  } as KubeObject, 'default');
  t.same(sts.spec!.volumeClaimTemplates[0].metadata, { name: 'data' });
  const cj = await client.create(batch('cronjobs'), {
    metadata: { name: 'c', namespace: 'default' },
    spec: { schedule: '* * * * *', jobTemplate: { metadata: { creationTimestamp: null }, spec: { template: { ...tpl, spec: { ...tpl.spec, restartPolicy: 'Never' } } } } },
  } as KubeObject, 'default');
  t.same(cj.spec!.jobTemplate.metadata, {});
  t.same(cj.spec!.jobTemplate.spec.template.metadata, { labels: { app: 'a' } });
  const pt = await client.create(core('podtemplates'), { metadata: { name: 'pt', namespace: 'default' }, template: tpl } as KubeObject, 'default');
  t.same((pt as { template?: { metadata?: object } }).template!.metadata, { labels: { app: 'a' } });
  t.match(pt, { template: { spec: { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' } } });
  t.same(podtemplates.cells!(pt, 0), ['pt', 'c', 'busybox', 'app=a']);
});
