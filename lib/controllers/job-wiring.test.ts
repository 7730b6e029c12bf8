// Wiring of the workload controllers' init functions (job, cronjob, daemonset, statefulset, disruption, hpa) on
// shared informers over a FakeClient: objects created through the client lead to the expected writes.
import t from 'tap';
import { FakeClient } from '../client/fake.ts';
import { apps, batch, core, type KubeObject } from '../client/types.ts';
import { realClock } from '../clock.ts';
import { nullRecorder } from '../controller/events.ts';
import { SharedInformerFactory } from '../controller/factory.ts';
import type { ControllerContext } from './context.ts';
import { initCronJobController } from './cronjob.ts';
import { initDaemonSetController } from './daemonset.ts';
import { initDisruptionController } from './disruption.ts';
import { initHpaController } from './hpa.ts';
import { initJobController } from './job.ts';
import { initStatefulSetController } from './statefulset.ts';

async function until(what: string, fn: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('init functions react to objects created through the client', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), { metadata: { name: 'n1' }, spec: {} });
  const ac = new AbortController();
  const factory = new SharedInformerFactory({ client, clock: realClock });
  const ctx: ControllerContext = { client, factory, clock: realClock, recorder: () => nullRecorder };
  const runnables = [initJobController, initCronJobController, initDaemonSetController, initStatefulSetController, initDisruptionController]
    .map((init) => init(ctx));
  runnables.push(initHpaController(ctx, { metricsSource: async () => [] }));
  factory.start(ac.signal);
  await factory.waitForSync(ac.signal);
  const runs = runnables.map((r) => r.run(ac.signal));
  t.teardown(async () => { ac.abort(); await Promise.all(runs); await factory.stopped(); });

  const tmpl = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
  await client.create(batch('jobs'), { metadata: { name: 'j', namespace: 'default' }, spec: { template: tmpl } });
  await client.create(apps('daemonsets'), { metadata: { name: 'd', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'x' } }, template: tmpl } });
  await client.create(apps('statefulsets'), { metadata: { name: 's', namespace: 'default' }, spec: { replicas: 1, serviceName: 's', selector: { matchLabels: { app: 'x' } }, template: tmpl } });
  await client.create({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' }, { metadata: { name: 'b', namespace: 'default' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'x' } } } });
  await client.create({ group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' }, { metadata: { name: 'h', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 's' }, maxReplicas: 3 } });
  await client.create(batch('cronjobs'), { metadata: { name: 'c', namespace: 'default', creationTimestamp: new Date(Date.now() - 120_000).toISOString() }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: tmpl } } } });

  const owners = () => client.objects(core('pods')).map((p: KubeObject) => p.metadata.ownerReferences?.[0]?.kind).sort();
  await until('job, daemonset and statefulset pods', () => ['DaemonSet', 'Job', 'StatefulSet'].every((k) => owners().includes(k)));
  await until('cronjob job', () => client.objects(batch('jobs')).some((j) => j.metadata.ownerReferences?.[0]?.kind === 'CronJob'));
  await until('pdb status', () => client.objects({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' })[0]?.status?.expectedPods !== undefined);
  await until('hpa status', () => !!client.objects({ group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' })[0]?.status?.conditions);
  await until('daemonset status', () => client.objects(apps('daemonsets'))[0]?.status?.desiredNumberScheduled === 1);
  t.ok(client.objects(apps('controllerrevisions')).length >= 2, 'daemonset and statefulset revisions');
});
