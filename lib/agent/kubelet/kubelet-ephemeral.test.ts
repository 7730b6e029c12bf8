// Ephemeral containers (kubectl debug): started in the running pod's sandbox once, never restarted, with their own
// status list; --target joins the target container's PID namespace; shareProcessNamespace gives the pod one.
import t from 'tap';
import { core } from '../../client/types.ts';
import type { ContainerConfig } from '../cri/types.ts';
import type { Pod } from './pod-types.ts';
import { basePod, BUSYBOX, kubeletFixture } from './test-fixture.ts';

const pods = core('pods');

t.test('an ephemeral container starts once in the sandbox, targets a container, and is never ready nor restarted', async (t) => {
  const { client, cri, clock, kubelet, sync, get } = kubeletFixture(t);
  client.seed(pods, basePod('web'));
  await kubelet.start();
  let p = await sync('web');
  const main = cri.byName('main')[0]!;
  p.spec.ephemeralContainers = [{ name: 'debugger', image: BUSYBOX, command: ['sh'], targetContainerName: 'main', stdin: true, tty: true }];
  const writesBefore = client.actions.length;
  await client.update(pods, p);
  for (let i = 0; i < 5 && !cri.byName('debugger').length; i++) { await new Promise((r) => setImmediate(r)); await kubelet.idle(); }
  await kubelet.idle();
  p = await get('web');
  t.match(p.status?.ephemeralContainerStatuses, [{ name: 'debugger', state: { running: {} } }]);
  const statusWrites = client.actions.slice(writesBefore).filter((a) => a.subresource === 'status' && a.name === 'web');
  t.equal(statusWrites.length, 1, 'one status write: the sync that started it lists it at once');
  p = await sync('web');
  const dbg = cri.byName('debugger');
  t.equal(dbg.length, 1, 'started');
  t.equal(dbg[0]!.sandboxId, main.sandboxId, 'in the pod sandbox');
  const config = dbg[0]!.config as ContainerConfig;
  t.same(config.linux?.security_context?.namespace_options, { network: 'POD', pid: 'TARGET', target_id: main.status.id, ipc: 'POD' });
  t.equal(config.tty, true);
  t.match(p.status?.ephemeralContainerStatuses, [{ name: 'debugger', ready: false, restartCount: 0, state: { running: {} } }]);
  t.equal(p.status?.containerStatuses?.length, 1, 'not a regular container');
  t.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', 'does not change readiness');

  cri.exitContainer(dbg[0]!.status.id, 0);
  clock.advance(60_000);
  p = await sync('web');
  t.equal(cri.byName('debugger').length, 1, 'not restarted');
  t.match(p.status?.ephemeralContainerStatuses, [{ name: 'debugger', state: { terminated: { exitCode: 0, reason: 'Completed' } } }]);
  t.equal(p.status?.phase, 'Running');
});

t.test('shareProcessNamespace: every container in the pod PID namespace', async (t) => {
  const { client, cri, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('shared', { shareProcessNamespace: true } as Partial<Pod['spec']>));
  await kubelet.start();
  await sync('shared');
  const sandbox = cri.calls.find((c) => c.method === 'runPodSandbox')!.args[0] as { linux: { security_context: { namespace_options: { pid: string } } } };
  t.equal(sandbox.linux.security_context.namespace_options.pid, 'POD');
  t.equal((cri.byName('main')[0]!.config as ContainerConfig).linux?.security_context?.namespace_options?.pid, 'POD');
});
