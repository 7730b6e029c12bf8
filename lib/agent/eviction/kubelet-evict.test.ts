// The kubelet's eviction hook with the fake CRI: containers stopped, pod Failed/Evicted, nothing restarted.
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
  t.ok(p.status?.containerStatuses?.[0]?.state?.terminated, 'container terminated');
  t.ok(cri.byName('main').every((c) => c.status.state === 'CONTAINER_EXITED'), 'containers stopped');

  kubelet.schedule(uid);
  await kubelet.idle();
  t.equal(cri.byName('main').length, 1, 'not restarted');
  t.equal((await get()).status?.reason, 'Evicted');
});
