// The kubelet's eviction hook with the fake CRI: containers stopped, pod Failed/Evicted, nothing restarted; and the
// dead-container part of disk-pressure reclaim.
import t from 'tap';
import { core } from '../../client/types.ts';
import { FakeCri } from '../cri/fake.ts';
import { basePod, kubeletFixture } from '../kubelet/test-fixture.ts';
import { removeDeadContainers } from './node-eviction.ts';
import { admitUnderPressure } from './rank.ts';

t.test('evict stops the containers and marks the pod Failed with reason Evicted; it is not restarted', async (t) => {
  const { client, cri, kubelet, get } = kubeletFixture(t, {}, 'tsk-evict-');
  client.seed(core('pods'), basePod('p', { restartPolicy: 'Always' }));
  await kubelet.start();
  const uid = (await get('p')).metadata.uid!;
  kubelet.schedule(uid);
  await kubelet.idle();
  t.equal((await get('p')).status?.phase, 'Running');
  t.equal(cri.byName('main').length, 1);

  const message = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 90Mi. ';
  await kubelet.evict(uid, { graceSeconds: 1, reason: 'Evicted', message });
  await kubelet.idle();
  const p = await get('p');
  t.match(p.status, { phase: 'Failed', reason: 'Evicted', message });
  t.match(p.status?.conditions?.find((c: { type: string }) => c.type === 'DisruptionTarget'), { status: 'True', reason: 'TerminationByKubelet', message }, 'DisruptionTarget as the kubelet sets it');
  t.ok(p.status?.containerStatuses?.[0]?.state?.terminated, 'container terminated');
  t.ok(cri.byName('main').every((c) => c.status.state === 'CONTAINER_EXITED'), 'containers stopped');

  kubelet.schedule(uid);
  await kubelet.idle();
  t.equal(cri.byName('main').length, 1, 'not restarted');
  t.equal((await get('p')).status?.reason, 'Evicted');
  t.ok((await get('p')).status?.conditions?.some((c: { type: string }) => c.type === 'DisruptionTarget'), 'kept by later status writes');
});

t.test('admission: a pod refused before its first sync is Failed with the reason and never reaches the runtime', async (t) => {
  let pressure = new Set(['MemoryPressure']);
  const asked: string[] = [];
  const { client, cri, kubelet, get } = kubeletFixture(t, {
    admit: (p) => { asked.push(p.metadata.name!); return { admit: true }; },
  }, 'tsk-admit-');
  // As node-eviction's admitNewPods wires it.
  kubelet.addAdmitHandler((p) => { const r = admitUnderPressure(p, pressure); return r ? { admit: false, ...r } : { admit: true }; });
  const seed = (name: string, resources?: object) => client.seed(core('pods'), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { nodeName: 'n1', restartPolicy: 'Always', containers: [{ name, image: 'docker.io/library/busybox:1.36', command: ['sleep', '3600'], ...(resources ? { resources } : {}) }] },
  });
  seed('besteffort');
  seed('burstable', { requests: { memory: '10Mi' } });
  await kubelet.start();
  const be = (await get('besteffort')).metadata.uid!;
  await kubelet.idle();
  for (let i = 0; i < 3; i++) { kubelet.schedule(be); await kubelet.idle(); }

  const p = await get('besteffort');
  t.match(p.status, { phase: 'Failed', reason: 'Evicted', message: 'Pod was rejected: The node had condition: [MemoryPressure]. ' });
  t.notOk(p.status?.containerStatuses, 'no container statuses');
  t.notOk(p.status?.startTime, 'never started');
  const forPod = (uid: string) => cri.calls.filter((c) => ['runPodSandbox', 'createContainer', 'startContainer'].includes(c.method)
    && JSON.stringify(c.args).includes(uid));
  t.same(forPod(be), [], 'no RunPodSandbox/CreateContainer for the rejected pod');
  t.equal((await get('burstable')).status?.phase, 'Running', 'a Burstable pod is admitted under memory pressure');

  // Asked once per pod: the pressure going away does not revive the rejected pod, nor does a later sync.
  pressure = new Set();
  kubelet.schedule(be);
  await kubelet.idle();
  t.same(forPod(be), [], 'still never started');
  t.equal((await get('besteffort')).status?.phase, 'Failed');
  t.same(asked.sort(), ['besteffort', 'burstable'], 'the handlers run once per pod');

});

t.test('disk pressure reclaim removes dead containers beyond the newest two per pod container', async (t) => {
  const cri = new FakeCri(['docker.io/library/busybox:1.36']);
  let now = 1_000;
  cri.now = () => (now += 1000);
  const sb = await cri.runPodSandbox({ metadata: { name: 'p', namespace: 'default', uid: 'u1', attempt: 0 }, labels: { 'io.tsk.managed': 'true', 'io.kubernetes.pod.uid': 'u1' } } as never);
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const id = await cri.createContainer(sb, {
      metadata: { name: 'main', attempt: i }, image: { image: 'docker.io/library/busybox:1.36' },
      labels: { 'io.tsk.managed': 'true', 'io.kubernetes.pod.uid': 'u1', 'io.kubernetes.container.name': 'main' },
    } as never, {} as never);
    await cri.startContainer(id);
    if (i < 3) await cri.stopContainer(id, 0);
    ids.push(id);
  }
  t.equal(await removeDeadContainers(cri), 2, 'the two oldest dead ones');
  t.same([...cri.containers.keys()].sort(), [ids[2], ids[3]].sort(), 'the running one and the previous attempt stay');
  t.equal(await removeDeadContainers(cri), 0);
});
