import t from 'tap';
import { core, type KubeObject } from '../client/types.ts';
import { FakeClock } from '../clock.ts';
import { seeded, verbs } from './controller-revision-fixtures.ts';
import { runPodGC, type PodGCDeps } from './pod-gc.ts';

const pod = (name: string, o: { phase?: string; node?: string; created?: string; deleting?: boolean } = {}): KubeObject => ({
  metadata: { name, namespace: 'ns', uid: name, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z', ...(o.deleting ? { deletionTimestamp: '2024-01-02T00:00:00Z' } : {}) },
  spec: { nodeName: o.node }, status: { phase: o.phase ?? 'Running' },
});

t.test('terminated pods over the threshold go oldest first', async (t) => {
  const { client, listers } = seeded([[core('pods'), [
    pod('done-old', { phase: 'Succeeded', node: 'n', created: '2024-01-01T00:00:00Z' }),
    pod('done-new', { phase: 'Failed', node: 'n', created: '2024-03-01T00:00:00Z' }),
    pod('done-mid', { phase: 'Succeeded', node: 'n', created: '2024-02-01T00:00:00Z' }),
    pod('running', { node: 'n' }),
  ]], [core('nodes'), [{ metadata: { name: 'n' } }]]]);
  const d: PodGCDeps = { client, clock: new FakeClock(), pods: listers[0]!, nodes: listers[1]!, threshold: 1 };
  t.equal(await runPodGC(d), 2);
  t.same(verbs(client), ['delete pods done-old', 'delete pods done-mid']);
});

t.test('pods on vanished nodes after quarantine; unscheduled terminating pods at once', async (t) => {
  const { client, listers } = seeded([[core('pods'), [pod('lost', { node: 'gone' }), pod('stuck', { deleting: true }), pod('pending')]], [core('nodes'), []]]);
  const clock = new FakeClock();
  const d: PodGCDeps = { client, clock, pods: listers[0]!, nodes: listers[1]!, missingSince: new Map() };
  await runPodGC(d);
  t.same(verbs(client), ['delete pods stuck']);
  client.actions.length = 0;
  clock.advance(40_000);
  await runPodGC(d);
  t.same(verbs(client), ['delete pods lost']);
});

t.test('nothing to do writes nothing', async (t) => {
  const { client, listers } = seeded([[core('pods'), [pod('ok', { node: 'n' })]], [core('nodes'), [{ metadata: { name: 'n' } }]]]);
  await runPodGC({ client, clock: new FakeClock(), pods: listers[0]!, nodes: listers[1]! });
  t.same(client.actions, []);
});
