// The kubelet's pod events (kubectl describe pod), worded as upstream's.
import t from 'tap';
import { core } from '../../client/types.ts';
import type { EventRecorder } from '../../controller/events.ts';
import type { Pod } from './pod-types.ts';
import { basePod, BUSYBOX, kubeletFixture } from './test-fixture.ts';

const pods = core('pods');

function recording(): { recorder: EventRecorder; events: string[]; of(name: string): string[] } {
  const events: string[] = [];
  return {
    recorder: { event: (o, type, reason, message) => { events.push(`${o.metadata.name} ${o.kind} ${type} ${reason}: ${message}`); } },
    events,
    of: (name) => events.filter((e) => e.startsWith(`${name} `)).map((e) => e.slice(name.length + 1)),
  };
}

t.test('a started pod: Pulled (already present), Created, Started; deletion: Killing', async (t) => {
  const ev = recording();
  const { client, cri, kubelet, sync } = kubeletFixture(t, { recorder: ev.recorder });
  client.seed(pods, basePod('web'));
  await kubelet.start();
  await sync('web');
  t.same(ev.of('web'), [
    `Pod Normal Pulled: Container image "${BUSYBOX}" already present on machine`,
    'Pod Normal Created: Created container main',
    'Pod Normal Started: Started container main',
  ]);
  const p = await client.get<{ metadata: { uid?: string; deletionTimestamp?: string; deletionGracePeriodSeconds?: number } }>(pods, 'web', 'default');
  p.metadata.deletionTimestamp = new Date().toISOString();
  p.metadata.deletionGracePeriodSeconds = 5;
  await client.update(pods, p as never);
  await kubelet.idle();
  kubelet.schedule(p.metadata.uid!);
  await kubelet.idle();
  t.ok(ev.of('web').includes('Pod Normal Killing: Stopping container main'), ev.events.join('\n'));
  t.ok(cri.calls.some((c) => c.method === 'stopContainer'));
});

t.test('a crashing container: BackOff; a failing liveness probe: Unhealthy and Killing', async (t) => {
  const ev = recording();
  const { client, cri, clock, kubelet, sync, probeResults } = kubeletFixture(t, { recorder: ev.recorder });
  client.seed(pods, basePod('crash'));
  client.seed(pods, basePod('probed', { containers: [{ name: 'main', image: BUSYBOX, livenessProbe: { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 2 } }] }));
  await kubelet.start();
  const crash = await sync('crash');
  cri.exitContainer(cri.byName('main').find((c) => c.config.metadata.name === 'main' && c.sandboxId && cri.sandboxes.get(c.sandboxId)?.config.metadata.name === 'crash')!.status.id, 1);
  clock.advance(1000);
  await sync('crash');
  const running = () => cri.byName('main').find((c) => c.status.state === 'CONTAINER_RUNNING' && cri.sandboxes.get(c.sandboxId)?.config.metadata.name === 'crash')!;
  cri.exitContainer(running().status.id, 1);
  clock.advance(1000);
  await sync('crash');
  t.ok(ev.of('crash').includes(`Pod Warning BackOff: Back-off restarting failed container main in pod crash_default(${crash.metadata.uid})`), ev.of('crash').join('\n'));

  await sync('probed');
  probeResults.set('main', 'failure');
  for (let i = 0; i < 3; i++) { clock.advance(1000); await new Promise((r) => setImmediate(r)); }
  await sync('probed');
  const probed = ev.of('probed');
  t.ok(probed.includes('Pod Warning Unhealthy: Liveness probe failed: '), probed.join('\n'));
  t.ok(probed.includes('Pod Normal Killing: Container main failed liveness probe, will be restarted'), probed.join('\n'));
});

t.test('an image that cannot be pulled: Pulling, Failed, then BackOff', async (t) => {
  const ev = recording();
  const { client, cri, clock, kubelet, sync } = kubeletFixture(t, { recorder: ev.recorder });
  client.seed(pods, basePod('nopull', { containers: [{ name: 'main', image: 'registry.invalid/missing:1' }] }));
  cri.failNext('pullImage', new Error('not found'));
  await kubelet.start();
  await sync('nopull');
  clock.advance(100);
  await sync('nopull');
  t.same(ev.of('nopull').slice(0, 5), [
    'Pod Normal Pulling: Pulling image "registry.invalid/missing:1"',
    'Pod Warning Failed: Failed to pull image "registry.invalid/missing:1": not found',
    'Pod Warning Failed: Error: ErrImagePull',
    'Pod Normal BackOff: Back-off pulling image "registry.invalid/missing:1"',
    'Pod Warning Failed: Error: ImagePullBackOff',
  ]);
});

t.test('a dead sandbox: SandboxChanged, then the pod starts again', async (t) => {
  const ev = recording();
  const { client, cri, kubelet, sync } = kubeletFixture(t, { recorder: ev.recorder });
  client.seed(pods, basePod('reboot'));
  await kubelet.start();
  await sync('reboot');
  await cri.stopPodSandbox([...cri.sandboxes.keys()][0]!);
  await sync('reboot');
  const after = ev.of('reboot');
  t.ok(after.includes('Pod Normal SandboxChanged: Pod sandbox changed, it will be killed and re-created.'), after.join('\n'));
  t.equal(after.filter((e) => e === 'Pod Normal Started: Started container main').length, 2, 'started again in the new sandbox');
});

t.test('while an image is pulled the pod already shows its IP and ContainerCreating', async (t) => {
  const { client, cri, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('slow', { containers: [{ name: 'main', image: 'registry.example/slow:1' }] }));
  cri.pullable.add('registry.example/slow:1');
  let atPull: Pod['status'] | undefined;
  const pull = cri.pullImage.bind(cri);
  cri.pullImage = async (...args: Parameters<typeof cri.pullImage>) => {
    atPull = (await client.get<Pod>(pods, 'slow', 'default')).status;
    return pull(...args);
  };
  await kubelet.start();
  const p = await sync('slow');
  t.ok(atPull?.podIP, 'the pod IP was posted before the pull');
  t.equal(atPull?.containerStatuses?.[0]?.state.waiting?.reason, 'ContainerCreating');
  t.equal(p.status?.phase, 'Running');
});
