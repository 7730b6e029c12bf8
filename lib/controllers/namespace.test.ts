import t from 'tap';
import { apps, core } from '../client/types.ts';
import { listerOf, seeded, verbs } from './controller-revision-fixtures.ts';
import { reconcileNamespace, type NamespaceDeps } from './namespace.ts';
import { reconcileServiceAccounts } from './serviceaccount.ts';
import { reconcileRootCA, ROOT_CA_CONFIGMAP } from './root-ca.ts';

const terminating = { metadata: { name: 'gone', deletionTimestamp: '2024-01-01T00:00:00Z' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Terminating' } };

t.test('namespace deletion empties every resource, then finalizes', async (t) => {
  const { client, listers } = seeded([
    [core('namespaces'), [terminating, { metadata: { name: 'keep' } }]],
    [core('pods'), [{ metadata: { name: 'p', namespace: 'gone' } }, { metadata: { name: 'q', namespace: 'keep' } }]],
    [apps('deployments'), [{ metadata: { name: 'd', namespace: 'gone' } }]],
  ]);
  const requeues: number[] = [];
  const d: NamespaceDeps = { client, namespaces: listers[0]!, resources: [core('pods'), apps('deployments'), core('configmaps')], requeueAfter: (_k, ms) => requeues.push(ms), attempts: new Map() };
  t.equal(await reconcileNamespace(d, 'gone'), 2);
  t.same(verbs(client), ['delete pods p', 'delete deployments d', 'update namespaces/status gone']);
  t.equal(requeues.length, 1, 'waits for content to disappear');
  const conds = client.objects(core('namespaces')).find((n) => n.metadata.name === 'gone')!.status.conditions;
  t.match(conds.find((c: { type: string }) => c.type === 'NamespaceContentRemaining'), { status: 'True', message: 'Some resources are remaining: deployments.apps has 1 resource instances, pods has 1 resource instances' });
  d.namespaces = listerOf(client.objects(core('namespaces')));
  client.actions.length = 0;
  t.equal(await reconcileNamespace(d, 'gone'), 0);
  t.same(verbs(client), ['update namespaces/status gone', 'update namespaces/finalize gone']);
  t.same(client.objects(core('namespaces')).find((n) => n.metadata.name === 'gone')!.spec.finalizers, []);
  client.actions.length = 0;
  await reconcileNamespace(d, 'keep');
  t.same(client.actions, [], 'active namespaces untouched');
});

t.test('terminating content is waited for, not deleted twice', async (t) => {
  const { client, listers } = seeded([[core('namespaces'), [terminating]], [core('pods'), [{ metadata: { name: 'p', namespace: 'gone', deletionTimestamp: '2024-01-01T00:00:00Z' } }]]]);
  const d: NamespaceDeps = { client, namespaces: listers[0]!, resources: [core('pods')] };
  t.equal(await reconcileNamespace(d, 'gone'), 1);
  t.same(verbs(client), ['update namespaces/status gone'], 'only the conditions');
  d.namespaces = listerOf(client.objects(core('namespaces')));
  client.actions.length = 0;
  t.equal(await reconcileNamespace(d, 'gone'), 1);
  t.same(client.actions, [], 'unchanged conditions are not rewritten');
});

t.test('default service account created once per active namespace', async (t) => {
  const { client, listers } = seeded([[core('namespaces'), [{ metadata: { name: 'a' } }, terminating]], [core('serviceaccounts'), []]]);
  const d = { client, namespaces: listers[0]!, serviceAccounts: listers[1]! };
  await reconcileServiceAccounts(d, 'a');
  await reconcileServiceAccounts(d, 'gone');
  t.same(verbs(client), ['create serviceaccounts default']);
  d.serviceAccounts = listerOf(client.objects(core('serviceaccounts')));
  await reconcileServiceAccounts(d, 'a');
  t.equal(client.actions.length, 1, 'no write when present');
});

t.test('kube-root-ca.crt created, corrected, and left alone when equal', async (t) => {
  const { client, listers } = seeded([[core('namespaces'), [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }]], [core('configmaps'), [{ metadata: { name: ROOT_CA_CONFIGMAP, namespace: 'b' }, data: { 'ca.crt': 'old' } }]]]);
  const d = { client, namespaces: listers[0]!, configMaps: listers[1]!, caPem: 'PEM' };
  await reconcileRootCA(d, 'a');
  await reconcileRootCA(d, 'b');
  t.same(verbs(client), [`create configmaps ${ROOT_CA_CONFIGMAP}`, `update configmaps ${ROOT_CA_CONFIGMAP}`]);
  t.same(client.objects(core('configmaps')).map((c) => c.data['ca.crt']), ['PEM', 'PEM']);
  d.configMaps = listerOf(client.objects(core('configmaps')));
  client.actions.length = 0;
  await reconcileRootCA(d, 'a');
  await reconcileRootCA(d, 'b');
  t.same(client.actions, []);
});
