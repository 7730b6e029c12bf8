import t from 'tap';
import type { KubeObject } from '../../client/types.ts';
import { core } from '../../client/types.ts';
import type { EventRecorder } from '../../controller/events.ts';
import { basePod, kubeletFixture } from './test-fixture.ts';

const RUNTIME_CLASSES = { group: 'node.k8s.io', version: 'v1', resource: 'runtimeclasses' };

t.test("a pod's RuntimeClass picks the sandbox's runtime handler; a missing class or handler is an event, not a start", async (t) => {
  const events: string[] = [];
  const recorder: EventRecorder = { event: (o, type, reason, message) => events.push(`${o.metadata.name} ${type} ${reason}: ${message}`) };
  const { client, cri, kubelet, sync } = kubeletFixture(t, { recorder });
  cri.handlers.add('crun');
  for (const [name, handler] of [['crun', 'crun'], ['kata', 'kata']]) {
    await client.create(RUNTIME_CLASSES, { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name }, handler } as KubeObject);
  }
  await client.create(core('pods'), basePod('plain'), 'default');
  await client.create(core('pods'), basePod('light', { runtimeClassName: 'crun' }), 'default');
  await client.create(core('pods'), basePod('vm', { runtimeClassName: 'kata' }), 'default');
  await client.create(core('pods'), basePod('gone', { runtimeClassName: 'deleted' }), 'default');
  await kubelet.start();
  for (const name of ['plain', 'light', 'vm', 'gone']) await sync(name);

  const handlerOf = (name: string) => cri.calls.find((c) => c.method === 'runPodSandbox' && (c.args[0] as { metadata: { name: string } }).metadata.name === name)?.args[1] ?? '';
  t.equal(handlerOf('plain'), '', 'no class: the default handler');
  t.equal(handlerOf('light'), 'crun', 'a class: its handler');
  t.equal((await sync('light')).status?.phase, 'Running');
  const vm = await sync('vm');
  t.equal(vm.status?.phase, 'Pending', 'a handler the runtime lacks: the pod waits');
  t.equal(vm.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
  t.ok(events.some((e) => e.startsWith('vm Warning FailedCreatePodSandBox: Failed to create pod sandbox:') && e.includes('no runtime for "kata" is configured')), events.join('\n'));
  t.ok(events.includes('gone Warning FailedCreatePodSandBox: Failed to create pod sandbox: RuntimeClass "deleted" not found'), events.join('\n'));
  t.notOk(cri.calls.some((c) => c.method === 'runPodSandbox' && (c.args[0] as { metadata: { name: string } }).metadata.name === 'gone'), 'no sandbox without its class');
});
