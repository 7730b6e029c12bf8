import t from 'tap';
import { apps, core, type KubeObject } from '../client/types.ts';
import { FakeClock } from '../clock.ts';
import { Expectations } from '../controller/expectations.ts';
import { hashOf, revisionData } from './controller-revision.ts';
import { readyCondition, seeded, verbs } from './controller-revision-fixtures.ts';
import { reconcileDaemonSet, type DaemonSetDeps } from './daemonset.ts';
import { FailedPodBackoff, nodeShouldRunDaemonPod, targetNodeName } from './daemonset-plan.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const template = { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'img:2' }] } };
const HASH = hashOf(revisionData(template));

function ds(spec: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'd', namespace: 'kube-system', uid: 'ds-uid', generation: 2 },
    spec: { selector: { matchLabels: { app: 'd' } }, template, ...spec },
    ...(status ? { status } : {}),
  };
}
const node = (name: string, extra: Record<string, unknown> = {}, labels: Record<string, string> = {}): KubeObject => ({ metadata: { name, labels }, spec: { ...extra } });
function pod(name: string, nodeName: string, hash: string, ready = true, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return {
    metadata: {
      name, namespace: 'kube-system', uid: `uid-${name}`, creationTimestamp: '2025-12-01T00:00:00Z', labels: { app: 'd', 'controller-revision-hash': hash },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'd', uid: 'ds-uid', controller: true }], ...extra,
    },
    spec: { nodeName },
    status: { phase: 'Running', conditions: ready ? [readyCondition()] : [] },
  };
}
const revision = (): KubeObject => ({
  metadata: { name: `d-${HASH}`, namespace: 'kube-system', labels: { app: 'd', 'controller-revision-hash': HASH }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'd', uid: 'ds-uid', controller: true }] },
  data: revisionData(template), revision: 1,
});

function setup(d: KubeObject, nodes: KubeObject[], pods: KubeObject[] = [], revisions: KubeObject[] = [revision()]) {
  const { client, listers } = seeded([[apps('daemonsets'), [d]], [core('nodes'), nodes], [core('pods'), pods], [apps('controllerrevisions'), revisions]]);
  const deps: DaemonSetDeps = { client, clock: new FakeClock(NOW), daemonSets: listers[0]!, nodes: listers[1]!, pods: listers[2]!, revisions: listers[3]! };
  return { client, deps };
}
const statusOf = (c: ReturnType<typeof setup>['client']) => c.actions.find((a) => a.subresource === 'status')?.object?.status;
const three = () => [node('n1'), node('n2'), node('n3')];

t.test('creates a revision and one pod per eligible node, bound by node-name affinity', async (t) => {
  const nodes = [
    node('n1'),
    node('n2', { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] }),
    node('n3', { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }),
  ];
  const { client, deps } = setup(ds(), nodes, [], []);
  await reconcileDaemonSet(deps, 'kube-system/d');
  t.same(verbs(client), [`create controllerrevisions d-${HASH}`, 'create pods d-*', 'create pods d-*', 'update daemonsets/status d']);
  const p = client.actions[1]!.object!;
  t.equal(targetNodeName(p), 'n1');
  t.equal(targetNodeName(client.actions[2]!.object!), 'n3');
  t.notOk(p.spec.nodeName, 'left to the scheduler');
  t.equal(p.metadata.labels!['controller-revision-hash'], HASH);
  t.ok(p.spec.tolerations.some((x: { key: string }) => x.key === 'node.kubernetes.io/memory-pressure'));
  t.equal(p.metadata.ownerReferences![0]!.kind, 'DaemonSet');
  t.match(statusOf(client), { desiredNumberScheduled: 2, currentNumberScheduled: 0, numberReady: 0, observedGeneration: 2, numberUnavailable: 2 });
  t.equal(client.actions[0]!.object!.revision, 1);
});

t.test('nodeSelector and required node affinity limit the nodes', async (t) => {
  const d = ds({ template: { ...template, spec: { ...template.spec, nodeSelector: { role: 'edge' } } } });
  t.same(nodeShouldRunDaemonPod(node('a', {}, { role: 'edge' }), d), { shouldRun: true, shouldContinueRunning: true });
  t.same(nodeShouldRunDaemonPod(node('b'), d), { shouldRun: false, shouldContinueRunning: false });
  const aff = ds({ template: { ...template, spec: { ...template.spec, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }] } } } } } });
  t.equal(nodeShouldRunDaemonPod(node('c', {}, { zone: 'z1' }), aff).shouldRun, true);
  t.equal(nodeShouldRunDaemonPod(node('d', {}, { zone: 'z2' }), aff).shouldRun, false);
  const noExec = node('e', { taints: [{ key: 'k', effect: 'NoExecute' }] });
  t.same(nodeShouldRunDaemonPod(noExec, ds()), { shouldRun: false, shouldContinueRunning: false });
  const tol = ds({ template: { ...template, spec: { ...template.spec, tolerations: [{ operator: 'Exists' }] } } });
  t.equal(nodeShouldRunDaemonPod(noExec, tol).shouldRun, true);
});

t.test('pods on vanished or NoExecute-tainted nodes are deleted; steady state writes nothing', async (t) => {
  const nodes = [node('n1'), node('n2', { taints: [{ key: 'k', effect: 'NoExecute' }] })];
  const { client, deps } = setup(ds(), nodes, [pod('p1', 'n1', HASH), pod('p2', 'n2', HASH), pod('p9', 'n9', HASH)]);
  await reconcileDaemonSet(deps, 'kube-system/d');
  t.same(verbs(client), ['delete pods p2', 'delete pods p9', 'update daemonsets/status d']);
  const steadyStatus = { currentNumberScheduled: 1, numberMisscheduled: 0, desiredNumberScheduled: 1, numberReady: 1, observedGeneration: 2, updatedNumberScheduled: 1, numberAvailable: 1, numberUnavailable: 0 };
  const steady = setup(ds({}, steadyStatus), [node('n1')], [pod('p1', 'n1', HASH)]);
  await reconcileDaemonSet(steady.deps, 'kube-system/d');
  t.same(verbs(steady.client), []);
});

t.test('rolling update with maxUnavailable 1 replaces one available old pod at a time', async (t) => {
  const { client, deps } = setup(ds(), three(), [pod('a', 'n1', 'old'), pod('b', 'n2', 'old'), pod('c', 'n3', 'old')]);
  await reconcileDaemonSet(deps, 'kube-system/d');
  t.same(verbs(client).filter((v) => !v.includes('status')), ['delete pods a']);
  t.match(statusOf(client), { updatedNumberScheduled: 0, numberAvailable: 3, desiredNumberScheduled: 3 });
  const waiting = setup(ds(), three(), [pod('a2', 'n1', HASH, false), pod('b', 'n2', 'old'), pod('c', 'n3', 'old')]);
  await reconcileDaemonSet(waiting.deps, 'kube-system/d');
  t.same(verbs(waiting.client).filter((v) => !v.includes('status')), [], 'waits for the new pod to be available');
  const pct = setup(ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%' } } }), three(), [pod('a', 'n1', 'old'), pod('b', 'n2', 'old'), pod('c', 'n3', 'old')]);
  await reconcileDaemonSet(pct.deps, 'kube-system/d');
  t.same(verbs(pct.client).filter((v) => !v.includes('status')), ['delete pods a', 'delete pods b'], '50% of 3 rounds up to 2');
});

t.test('a node whose old pod is gone gets a new pod (after the deleting one disappears)', async (t) => {
  const gone = setup(ds(), three(), [pod('a-old', 'n1', 'old', true, { deletionTimestamp: '2026-01-01T00:00:00Z' }), pod('b', 'n2', 'old'), pod('c', 'n3', 'old')]);
  await reconcileDaemonSet(gone.deps, 'kube-system/d');
  t.same(verbs(gone.client).filter((v) => !v.includes('status')), [], 'no new pod while the old one terminates');
  const next = setup(ds(), three(), [pod('b', 'n2', 'old'), pod('c', 'n3', 'old')]);
  await reconcileDaemonSet(next.deps, 'kube-system/d');
  t.same(verbs(next.client).filter((v) => !v.includes('status')), ['create pods d-*']);
  t.equal(next.client.actions[0]!.object!.metadata.labels!['controller-revision-hash'], HASH);
});

t.test('maxSurge starts the new pod before deleting the old one', async (t) => {
  const strategy = { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } };
  const s1 = setup(ds(strategy), three(), [pod('a', 'n1', 'old'), pod('b', 'n2', 'old'), pod('c', 'n3', 'old')]);
  await reconcileDaemonSet(s1.deps, 'kube-system/d');
  t.same(verbs(s1.client).filter((v) => !v.includes('status')), ['create pods d-*']);
  t.equal(targetNodeName(s1.client.actions[0]!.object!), 'n1');
  const s2 = setup(ds(strategy), three(), [pod('a', 'n1', 'old'), pod('a2', 'n1', HASH), pod('b', 'n2', 'old'), pod('c', 'n3', 'old')]);
  await reconcileDaemonSet(s2.deps, 'kube-system/d');
  t.same(verbs(s2.client).filter((v) => !v.includes('status')), ['delete pods a', 'create pods d-*'], 'old pod goes once the new one is available; next node surges');
});

t.test('OnDelete leaves old pods alone', async (t) => {
  const { client, deps } = setup(ds({ updateStrategy: { type: 'OnDelete' } }), three(), [pod('a', 'n1', 'old'), pod('b', 'n2', 'old'), pod('c', 'n3', 'old')]);
  await reconcileDaemonSet(deps, 'kube-system/d');
  t.same(verbs(client).filter((v) => !v.includes('status')), []);
});

t.test('history beyond revisionHistoryLimit is truncated, live revisions kept', async (t) => {
  const old = (n: number): KubeObject => ({ metadata: { name: `d-r${n}`, namespace: 'kube-system', labels: { 'controller-revision-hash': `r${n}` }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'd', uid: 'ds-uid', controller: true }] }, data: {}, revision: n });
  const cur = revision();
  cur.revision = 9;
  const { client, deps } = setup(ds({ revisionHistoryLimit: 1 }), [node('n1')], [pod('p', 'n1', 'r1')], [old(1), old(2), old(3), cur]);
  await reconcileDaemonSet(deps, 'kube-system/d');
  t.same(verbs(client).filter((v) => v.includes('controllerrevisions')), ['delete controllerrevisions d-r2']);
});

t.test('a failed daemon pod is killed, then killed again only after a backoff', async (t) => {
  const failed = () => { const p = pod('f', 'n1', HASH); p.status.phase = 'Failed'; return p; };
  const backoff = new FailedPodBackoff();
  const first = setup(ds(), [node('n1')], [failed()]);
  first.deps.failedBackoff = backoff;
  await reconcileDaemonSet(first.deps, 'kube-system/d');
  t.same(verbs(first.client).filter((v) => !v.includes('status')), ['delete pods f', 'create pods d-*'], 'replaced at once');
  const second = setup(ds(), [node('n1')], [failed()]);
  const requeues: number[] = [];
  Object.assign(second.deps, { failedBackoff: backoff, requeueAfter: (_k: string, ms: number) => requeues.push(ms) });
  await reconcileDaemonSet(second.deps, 'kube-system/d');
  t.same(verbs(second.client).filter((v) => !v.includes('status')), [], 'backing off');
  t.same(requeues, [1000]);
});

t.test('pending expectations hold back a second round of creations', async (t) => {
  const { client, deps } = setup(ds(), three());
  deps.expectations = new Expectations(deps.clock);
  deps.expectations.expect('kube-system/d', 3);
  await reconcileDaemonSet(deps, 'kube-system/d');
  t.same(verbs(client).filter((v) => v.startsWith('create pods')), []);
});
