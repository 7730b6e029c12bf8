import t from 'tap';
import { FakeClient } from '../client/fake.ts';
import { apps, core, type KubeObject } from '../client/types.ts';
import { FakeClock, realClock } from '../clock.ts';
import { SharedInformerFactory } from '../controller/factory.ts';
import { nullRecorder } from '../controller/events.ts';
import { listerOf, seeded, verbs } from './controller-revision-fixtures.ts';
import type { ControllerContext } from './context.ts';
import { deploymentController, reconcileDeployment, type DeploymentDeps } from './deployment.ts';
import { isScalingEvent, newRSReplicas, proportionalScale, scaleDownOld, resolveFenceposts } from './deployment-util.ts';
import { replicaSetController } from './replicaset.ts';

const deploy = (extra: Record<string, unknown> = {}, image = 'nginx:1'): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'web', namespace: 'ns', uid: 'dep-uid', generation: 1 },
  spec: {
    replicas: 3, selector: { matchLabels: { app: 'web' } }, progressDeadlineSeconds: 600, revisionHistoryLimit: 10,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
    ...extra,
  },
});

const rsObj = (name: string, replicas: number, available: number, created: string, image = 'nginx:0'): KubeObject => ({
  metadata: { name, namespace: 'ns', uid: name, creationTimestamp: created, annotations: { 'deployment.kubernetes.io/revision': '1' } },
  spec: { replicas, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } } },
  status: { replicas, availableReplicas: available },
});

t.test('rolling arithmetic', async (t) => {
  const d = deploy();
  t.same(resolveFenceposts(d), { maxSurge: 1, maxUnavailable: 0 });
  t.same(resolveFenceposts(deploy({ replicas: 10 })), { maxSurge: 3, maxUnavailable: 2 });
  t.same(resolveFenceposts(deploy({ strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } })), { maxSurge: 0, maxUnavailable: 1 });
  const old = rsObj('old', 3, 3, '2024-01-01T00:00:00Z');
  const nw = rsObj('new', 0, 0, '2024-02-01T00:00:00Z', 'nginx:1');
  t.equal(newRSReplicas(d, [old, nw], nw), 1, 'surge by one');
  t.same([...scaleDownOld(d, [old], { ...nw, spec: { replicas: 1 }, status: { availableReplicas: 0 } }).values()], [], 'no scale down until the new pod is available');
  t.same([...scaleDownOld(d, [old], { ...nw, spec: { replicas: 1 }, status: { availableReplicas: 1 } }).values()], [2]);
  t.same([...scaleDownOld(deploy({ replicas: 10 }), [rsObj('o', 10, 4, '2024-01-01T00:00:00Z')], undefined).values()], [8], 'unhealthy old pods go first within budget');
});

t.test('proportional scaling spreads a scale change over active sets', async (t) => {
  const d = deploy({ replicas: 20, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 5, maxUnavailable: 0 } } });
  const ann = (o: KubeObject) => { o.metadata.annotations = { ...o.metadata.annotations, 'deployment.kubernetes.io/desired-replicas': '10', 'deployment.kubernetes.io/max-replicas': '13' }; return o; };
  const old = ann(rsObj('old', 8, 8, '2024-01-01T00:00:00Z'));
  const nw = ann(rsObj('new', 5, 0, '2024-02-01T00:00:00Z', 'nginx:1'));
  t.ok(isScalingEvent(d, [old, nw]));
  const m = proportionalScale(d, nw, [old]);
  t.same([m.get(old), m.get(nw)], [15, 10]);
  t.same([...proportionalScale(deploy({ replicas: 5 }), nw, [rsObj('idle', 0, 0, '2024-01-01T00:00:00Z')]).values()], [5], 'one active set takes the whole count');
});

t.test('first reconcile creates the ReplicaSet with hash label, revision and owner', async (t) => {
  const { client, listers } = seeded([[apps('deployments'), [deploy()]], [apps('replicasets'), []]]);
  const d: DeploymentDeps = { client, clock: new FakeClock(), deployments: listers[0]!, replicaSets: listers[1]! };
  await reconcileDeployment(d, 'ns/web');
  t.same(verbs(client).map((v) => v.replace(/web-\w+/, 'web-HASH')), ['create replicasets web-HASH', 'update deployments web', 'update deployments/status web']);
  const rs = client.objects(apps('replicasets'))[0] as any;
  const hash = rs.metadata.labels['pod-template-hash'];
  t.ok(hash);
  t.equal(rs.metadata.name, `web-${hash}`);
  t.equal(rs.spec.replicas, 3, 'a new deployment starts at full size (surge budget covers it)');
  t.same(rs.spec.selector.matchLabels, { app: 'web', 'pod-template-hash': hash });
  t.equal(rs.spec.template.metadata.labels['pod-template-hash'], hash);
  t.equal(rs.metadata.annotations['deployment.kubernetes.io/revision'], '1');
  t.match(rs.metadata.ownerReferences, [{ kind: 'Deployment', uid: 'dep-uid', controller: true }]);
  const dep = client.objects(apps('deployments'))[0] as any;
  t.equal(dep.metadata.annotations['deployment.kubernetes.io/revision'], '1');
  t.match(dep.status.conditions, [{ type: 'Available', status: 'False' }, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated' }]);
});

t.test('a new ReplicaSet created at 0 (no surge budget) is not reported as scaled up', async (t) => {
  const old = { ...rsObj('web-old', 3, 3, '2024-01-01T00:00:00Z'), metadata: { ...rsObj('web-old', 3, 3, '2024-01-01T00:00:00Z').metadata, labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'dep-uid', controller: true }] } };
  const { client, listers } = seeded([[apps('deployments'), [deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } })]], [apps('replicasets'), [old]]]);
  const events: string[] = [];
  const d: DeploymentDeps = { client, clock: new FakeClock(), deployments: listers[0]!, replicaSets: listers[1]!, recorder: { event: (_o, _t, reason, msg) => events.push(`${reason} ${msg}`) } };
  await reconcileDeployment(d, 'ns/web');
  const created = client.objects(apps('replicasets')).find((r) => r.metadata.name !== 'web-old')!;
  t.equal(created.spec!.replicas, 0);
  t.notOk(events.some((e) => e.includes(`${created.metadata.name} from 0 to 0`)), events.join('; '));
  t.ok(events.some((e) => e === 'ScalingReplicaSet Scaled down replica set web-old from 3 to 2'), events.join('; '));
});

t.test('progress deadline exceeded', async (t) => {
  const clock = new FakeClock(Date.parse('2024-06-01T00:00:00Z'));
  const rs = rsObj('web-x', 3, 0, '2024-05-01T00:00:00Z', 'nginx:1');
  rs.metadata.labels = { app: 'web' };
  rs.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'dep-uid', controller: true }];
  Object.assign(rs.metadata.annotations!, { 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
  const dep = { ...deploy(), metadata: { ...deploy().metadata, annotations: { 'deployment.kubernetes.io/revision': '1' } },
    status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, unavailableReplicas: 3, conditions: [
      { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: '2024-06-01T00:00:00Z', lastTransitionTime: '2024-06-01T00:00:00Z' },
      { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "web-x" is progressing.', lastUpdateTime: '2024-06-01T00:00:00Z', lastTransitionTime: '2024-06-01T00:00:00Z' }] } };
  const { client, listers } = seeded([[apps('deployments'), [dep]], [apps('replicasets'), [rs]]]);
  const requeues: number[] = [];
  const d: DeploymentDeps = { client, clock, deployments: listers[0]!, replicaSets: listers[1]!, requeueAfter: (_k, ms) => requeues.push(ms) };
  await reconcileDeployment(d, 'ns/web');
  t.same(verbs(client), [], 'nothing changed before the deadline');
  t.ok(requeues[0]! >= 600_000, 'requeued for the deadline');
  clock.advance(601_000);
  await reconcileDeployment(d, 'ns/web');
  t.same(verbs(client), ['update deployments/status web']);
  t.match(client.objects(apps('deployments'))[0]!.status.conditions, [{ type: 'Available' }, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }]);
});

/** Deployment + ReplicaSet controllers over a FakeClient, with a stand-in kubelet marking pods Ready. */
async function cluster(t: { teardown(fn: () => void): void }) {
  const client = new FakeClient();
  const factory = new SharedInformerFactory({ client, clock: realClock });
  const ctx: ControllerContext = { client, factory, clock: realClock, recorder: () => nullRecorder };
  const dc = deploymentController(ctx);
  const rc = replicaSetController(ctx);
  const pods = factory.informer(core('pods'));
  let minAvailable = Infinity;
  pods.addHandler({
    add: (p) => {
      if (p.status?.phase) return;
      const upd = structuredClone(p) as KubeObject;
      upd.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] };
      client.update(core('pods'), upd, 'status').catch(() => {});
    },
    update: () => {
      const ready = client.objects(core('pods')).filter((p) => p.status?.conditions?.[0]?.status === 'True').length;
      minAvailable = Math.min(minAvailable, ready);
    },
  });
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  factory.start(ac.signal);
  await factory.waitForSync();
  void dc.run(ac.signal);
  void rc.run(ac.signal);
  const until = async (what: string, cond: () => boolean) => {
    const end = Date.now() + 30_000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const dep = () => client.objects(apps('deployments'))[0] as any;
  const done = () => {
    const d = dep();
    const s = d.status ?? {};
    return s.observedGeneration >= d.metadata.generation && s.updatedReplicas === d.spec.replicas && s.replicas === d.spec.replicas && s.availableReplicas === d.spec.replicas;
  };
  return { client, until, dep, done, minAvailable: () => minAvailable, resetMin: () => { minAvailable = Infinity; } };
}

const setTemplate = async (client: FakeClient, image: string, extra: (d: KubeObject) => void = () => {}) => {
  const d = client.objects(apps('deployments'))[0] as any;
  d.spec.template.spec.containers[0].image = image;
  d.metadata.generation++;
  extra(d);
  await client.update(apps('deployments'), d);
};

t.test('rolling update, rollout status fields, undo by template, history limit', async (t) => {
  const c = await cluster(t);
  await c.client.create(apps('deployments'), deploy({ revisionHistoryLimit: 1 }));
  await c.until('first rollout', c.done);
  t.match(c.dep().status.conditions.find((x: { type: string }) => x.type === 'Progressing'), { status: 'True', reason: 'NewReplicaSetAvailable' });
  const scaled = c.dep();
  scaled.spec.replicas = 4;
  await c.client.update(apps('deployments'), scaled);
  await c.until('scaled to 4', () => c.done() && c.client.objects(core('pods')).length === 4);
  t.equal(c.client.objects(apps('replicasets')).length, 1, 'scaling makes no new ReplicaSet');
  scaled.spec.replicas = 3;
  await c.client.update(apps('deployments'), { ...c.dep(), spec: { ...c.dep().spec, replicas: 3 } });
  await c.until('scaled back to 3', () => c.done() && c.client.objects(core('pods')).length === 3);
  c.resetMin();
  await setTemplate(c.client, 'nginx:2');
  await c.until('second rollout', () => c.done() && c.client.objects(core('pods')).length === 3);
  t.ok(c.minAvailable() >= 3, `never below minAvailable (saw ${c.minAvailable()})`);
  const rss = () => c.client.objects(apps('replicasets')) as any[];
  t.equal(rss().length, 2);
  const v2 = rss().find((r) => r.spec.template.spec.containers[0].image === 'nginx:2')!;
  t.equal(v2.metadata.annotations['deployment.kubernetes.io/revision'], '2');
  t.equal(c.dep().metadata.annotations['deployment.kubernetes.io/revision'], '2');
  // kubectl rollout undo: the old ReplicaSet's template goes back into the Deployment
  await setTemplate(c.client, 'nginx:1');
  await c.until('undo', () => c.done() && c.dep().metadata.annotations['deployment.kubernetes.io/revision'] === '3' && rss().every((r) => r.spec.replicas === (r.spec.template.spec.containers[0].image === 'nginx:1' ? 3 : 0)));
  const v1 = rss().find((r) => r.spec.template.spec.containers[0].image === 'nginx:1')!;
  t.equal(v1.metadata.annotations['deployment.kubernetes.io/revision'], '3', 'the old ReplicaSet becomes the newest revision');
  // a third template with history limit 1 removes the oldest scaled-down set
  await setTemplate(c.client, 'nginx:3');
  await c.until('third rollout + cleanup', () => c.done() && rss().length === 2);
  t.same(rss().map((r) => r.spec.template.spec.containers[0].image).sort(), ['nginx:1', 'nginx:3']);
});

t.test('Recreate scales old to zero before the new set; pause holds the rollout', async (t) => {
  const c = await cluster(t);
  await c.client.create(apps('deployments'), deploy({ strategy: { type: 'Recreate' }, replicas: 2 }));
  await c.until('first', c.done);
  await setTemplate(c.client, 'nginx:2', (d) => { d.spec.paused = true; });
  await c.until('paused condition', () => c.dep().status.conditions.some((x: { reason: string }) => x.reason === 'DeploymentPaused'));
  t.equal(c.client.objects(apps('replicasets')).length, 1, 'paused: no new ReplicaSet');
  const d = c.dep() as any;
  d.spec.paused = false;
  await c.client.update(apps('deployments'), d);
  await c.until('recreate rollout', () => c.done() && c.client.objects(core('pods')).length === 2);
  const events = c.client.actions.filter((a) => a.resource === 'replicasets' && a.verb !== 'delete').map((a) => `${a.object?.spec?.template?.spec?.containers?.[0]?.image}=${a.object?.spec?.replicas}`);
  const newUp = events.findIndex((e) => e.startsWith('nginx:2'));
  const oldDown = events.findIndex((e) => e === 'nginx:1=0');
  t.ok(oldDown >= 0 && oldDown < newUp, `old scaled to zero before new created: ${events.join(' ')}`);
  void listerOf;
});
