import t from 'tap';
import { apps, core, type KubeObject } from '../client/types.ts';
import { FakeClock } from '../clock.ts';
import { readyCondition, seeded } from './controller-revision-fixtures.ts';
import { reconcileDisruptionBudget, scaledValue, type DisruptionDeps } from './disruption.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const pdbRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };
const pdb = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({
  metadata: { name: 'b', namespace: 'default', generation: 3 }, spec: { selector: { matchLabels: { app: 'w' } }, ...spec }, ...(status ? { status } : {}),
});
const rsOwner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'w-rs', uid: 'rs-uid', controller: true }];
const pod = (name: string, ready = true, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  metadata: { name, namespace: 'default', labels: { app: 'w' }, ownerReferences: rsOwner, ...extra }, spec: {},
  status: { phase: 'Running', conditions: ready ? [readyCondition()] : [] },
});
const deployment: KubeObject = { metadata: { name: 'w', namespace: 'default', uid: 'd-uid' }, spec: { replicas: 4 } };
const rs: KubeObject = { metadata: { name: 'w-rs', namespace: 'default', uid: 'rs-uid', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'w', uid: 'd-uid', controller: true }] }, spec: { replicas: 4 } };

function setup(b: KubeObject, pods: KubeObject[]) {
  const { client, listers } = seeded([[pdbRef, [b]], [core('pods'), pods], [apps('deployments'), [deployment]], [apps('replicasets'), [rs]]]);
  const deps: DisruptionDeps = { client, clock: new FakeClock(NOW), pdbs: listers[0]!, pods: listers[1]! };
  return { client, deps };
}
const statusOf = (c: ReturnType<typeof setup>['client']) => c.actions.find((a) => a.subresource === 'status')?.object?.status;
const four = () => [pod('a'), pod('b'), pod('c'), pod('d', false)];

t.test('minAvailable as an int counts the selected pods', async (t) => {
  const { client, deps } = setup(pdb({ minAvailable: 2 }), four());
  await reconcileDisruptionBudget(deps, 'default/b');
  const st = statusOf(client)!;
  t.match(st, { currentHealthy: 3, desiredHealthy: 2, expectedPods: 4, disruptionsAllowed: 1, observedGeneration: 3 });
  t.match(st.conditions[0], { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' });
});

t.test('maxUnavailable and percentages scale against the Deployment replicas', async (t) => {
  const m = setup(pdb({ maxUnavailable: '25%' }), four());
  await reconcileDisruptionBudget(m.deps, 'default/b');
  t.match(statusOf(m.client), { expectedPods: 4, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 });
  t.match(statusOf(m.client)!.conditions[0], { status: 'False', reason: 'InsufficientPods' });
  const p = setup(pdb({ minAvailable: '50%' }), four());
  await reconcileDisruptionBudget(p.deps, 'default/b');
  t.match(statusOf(p.client), { expectedPods: 4, desiredHealthy: 2, disruptionsAllowed: 1 });
  t.equal(scaledValue('10%', 3), 1);
});

t.test('pods without a controller make maxUnavailable budgets fail to sync', async (t) => {
  const { client, deps } = setup(pdb({ maxUnavailable: 1 }), [pod('x', true, { ownerReferences: [] })]);
  await t.rejects(reconcileDisruptionBudget(deps, 'default/b'));
  t.match(statusOf(client)!.conditions[0], { status: 'False', reason: 'SyncFailed' });
});

t.test('recently disrupted pods are not healthy; expired entries are dropped', async (t) => {
  const disruptedPods = { a: new Date(NOW - 10_000).toISOString(), b: new Date(NOW - 5 * 60_000).toISOString() };
  const { client, deps } = setup(pdb({ minAvailable: 1 }, { disruptedPods }), four());
  await reconcileDisruptionBudget(deps, 'default/b');
  const st = statusOf(client)!;
  t.equal(st.currentHealthy, 2);
  t.same(Object.keys(st.disruptedPods), ['a']);
});

t.test('unchanged status is not written', async (t) => {
  const first = setup(pdb({ minAvailable: 2 }), four());
  await reconcileDisruptionBudget(first.deps, 'default/b');
  const again = setup(pdb({ minAvailable: 2 }, statusOf(first.client)), four());
  await reconcileDisruptionBudget(again.deps, 'default/b');
  t.same(again.client.actions, []);
});
