// The kubelet's eviction hook with the fake CRI: containers stopped, pod Failed/Evicted, nothing restarted; and the
// dead-container part of disk-pressure reclaim.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { core } from '../../client/types.ts';
import { FakeClient } from '../../client/fake.ts';
import { FakeClock } from '../../clock.ts';
import { FakeCri } from '../cri/fake.ts';
import { RecordingRunner } from '../exec/runner.ts';
import { Kubelet } from '../kubelet/kubelet.ts';
import type { Pod } from '../kubelet/pod-types.ts';
import { removeDeadContainers } from './node-eviction.ts';

t.test('evict stops the containers and marks the pod Failed with reason Evicted; it is not restarted', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsk-evict-'));
  const ac = new AbortController();
  t.teardown(() => { ac.abort(); rmSync(dataDir, { recursive: true, force: true }); });
  const client = new FakeClient();
  const cri = new FakeCri(['docker.io/library/busybox:1.36']);
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  cri.now = () => clock.now();
  const kubelet = new Kubelet({ client, cri, nodeName: 'n1', dataDir, signal: ac.signal, clock, nodeIP: '192.168.1.10', relistMs: 0, runner: new RecordingRunner(), podCgroups: false });
  client.seed(core('pods'), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
    spec: { nodeName: 'n1', restartPolicy: 'Always', containers: [{ name: 'main', image: 'docker.io/library/busybox:1.36', command: ['sleep', '3600'] }] },
  });
  await kubelet.start();
  const get = () => client.get<Pod>(core('pods'), 'p', 'default');
  const uid = (await get()).metadata.uid!;
  kubelet.schedule(uid);
  await kubelet.idle();
  t.equal((await get()).status?.phase, 'Running');
  t.equal(cri.byName('main').length, 1);

  const message = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 90Mi. ';
  await kubelet.evict(uid, { graceSeconds: 1, reason: 'Evicted', message });
  await kubelet.idle();
  const p = await get();
  t.match(p.status, { phase: 'Failed', reason: 'Evicted', message });
  t.match(p.status?.conditions?.find((c: { type: string }) => c.type === 'DisruptionTarget'), { status: 'True', reason: 'TerminationByKubelet', message }, 'DisruptionTarget as the kubelet sets it');
  t.ok(p.status?.containerStatuses?.[0]?.state?.terminated, 'container terminated');
  t.ok(cri.byName('main').every((c) => c.status.state === 'CONTAINER_EXITED'), 'containers stopped');

  kubelet.schedule(uid);
  await kubelet.idle();
  t.equal(cri.byName('main').length, 1, 'not restarted');
  t.equal((await get()).status?.reason, 'Evicted');
  t.ok((await get()).status?.conditions?.some((c: { type: string }) => c.type === 'DisruptionTarget'), 'kept by later status writes');
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
