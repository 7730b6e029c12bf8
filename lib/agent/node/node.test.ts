import t from 'tap';
import { coordination, core } from '../../client/types.ts';
import { FakeClient } from '../../client/fake.ts';
import { FakeClock } from '../../clock.ts';
import { FakeCri } from '../cri/fake.ts';
import type { MachineFacts } from './facts.ts';
import { conditionEvents, startNode } from './node.ts';
import { newNode, parseTaint } from './node-object.ts';

const facts = (over: Partial<MachineFacts> = {}): MachineFacts => ({
  cpus: 4, memoryBytes: 8 * 1024 ** 3, memoryAvailableBytes: 4 * 1024 ** 3, diskBytes: 100e9, diskFreeBytes: 50e9, arch: 'arm64',
  kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12 (bookworm)', machineID: 'm1', bootID: 'b1', systemUUID: 'u1', ...over,
});

const flush = async () => { for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); };

t.test('registers the node, renews the lease, writes status only on change or every 5 minutes', async (t) => {
  const client = new FakeClient();
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const f = facts();
  let pressure = new Set<'MemoryPressure' | 'DiskPressure' | 'PIDPressure'>();
  const node = startNode({ client, cri: new FakeCri(['docker.io/library/busybox:1.36']), nodeName: 'pi-1', nodeIP: '192.168.1.20', controlPlane: true, labels: ['zone=attic'], dataDir: '/nonexistent', signal: ac.signal, clock, facts: () => f, pressure: () => pressure });
  const n = await node.ready;
  t.match(n.metadata.labels, { 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': 'pi-1', 'node-role.kubernetes.io/control-plane': 'true', zone: 'attic' });
  t.match(n.status.capacity, { cpu: '4', memory: `${8 * 1024 * 1024}Ki`, pods: '110' });
  t.same(n.status.addresses, [{ type: 'InternalIP', address: '192.168.1.20' }, { type: 'Hostname', address: 'pi-1' }]);
  t.match(n.status.nodeInfo, { kubeletVersion: 'v1.32.4+tsk1', containerRuntimeVersion: 'fake://1.0.0', architecture: 'arm64', machineID: 'm1', bootID: 'b1' });
  t.same(n.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`), ['MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=True']);

  t.same(n.status.images, [{ names: ['docker.io/library/busybox:1.36'], sizeBytes: 1000 }], 'images reported');
  await flush();
  const lease = await client.get(coordination('leases'), 'pi-1', 'kube-node-lease');
  t.equal(lease.spec.holderIdentity, 'pi-1');
  t.equal(lease.spec.renewTime, '2026-01-01T00:00:00.000000Z');
  t.equal(lease.metadata.ownerReferences?.[0]?.uid, n.metadata.uid);

  const statusWrites = () => client.actions.filter((a) => a.resource === 'nodes' && a.subresource === 'status').length;
  const before = statusWrites();
  clock.advance(10_000);
  await flush();
  t.equal((await client.get(coordination('leases'), 'pi-1', 'kube-node-lease')).spec.renewTime, '2026-01-01T00:00:10.000000Z', 'lease renewed');
  t.equal(statusWrites(), before, 'unchanged status is not written');

  pressure = new Set(['DiskPressure']);
  clock.advance(10_000);
  await flush();
  t.equal(statusWrites(), before + 1, 'changed condition written');
  const n2 = await client.get(core('nodes'), 'pi-1');
  t.match(n2.status.conditions.find((c: { type: string }) => c.type === 'DiskPressure'), { status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' });

  for (let i = 0; i < 31; i++) { clock.advance(10_000); await flush(); }
  t.equal(statusWrites(), before + 2, 'forced write after 5 minutes');
});

t.test('an existing node keeps its fields; our labels are merged', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', labels: { custom: 'x' } }, spec: { podCIDR: '10.42.3.0/24' } });
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const n = await startNode({ client, cri: new FakeCri(), nodeName: 'n', nodeIP: '10.0.0.1', dataDir: '/nonexistent', signal: ac.signal, clock: new FakeClock(), facts: () => facts() }).ready;
  t.equal(n.spec.podCIDR, '10.42.3.0/24');
  t.equal(n.metadata.labels?.custom, 'x');
  t.equal(n.metadata.labels?.['kubernetes.io/hostname'], 'n');
  t.notOk(n.metadata.labels?.['node-role.kubernetes.io/control-plane']);
});

t.test('Ready follows the runtime network condition within a second', async (t) => {
  const client = new FakeClient();
  const clock = new FakeClock();
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const cri = new FakeCri();
  cri.networkReady = false;
  const n = await startNode({ client, cri, nodeName: 'n', nodeIP: '10.0.0.1', dataDir: '/nonexistent', signal: ac.signal, clock, facts: () => facts() }).ready;
  const ready = (o: typeof n) => o.status.conditions.find((c: { type: string }) => c.type === 'Ready');
  t.match(ready(n), { status: 'False', reason: 'KubeletNotReady', message: /NetworkReady=false/ });
  await flush();
  cri.networkReady = true;
  clock.advance(1000);
  await flush();
  t.equal(ready(await client.get(core('nodes'), 'n')).status, 'True');
});

t.test('pressure conditions from the eviction manager: written at once when nudged; allocatable holds back the hard thresholds', async (t) => {
  const client = new FakeClient();
  const clock = new FakeClock();
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  let pressure = new Set<'MemoryPressure' | 'DiskPressure' | 'PIDPressure'>();
  let wake = () => {};
  const n = await startNode({
    client, cri: new FakeCri(), nodeName: 'n', nodeIP: '10.0.0.1', dataDir: '/nonexistent', signal: ac.signal, clock, facts: () => facts(),
    pressure: () => pressure, statusNudge: () => new Promise<void>((r) => { wake = r; }),
    evictionReserve: { memoryBytes: (c) => c * 0.05, ephemeralBytes: () => 1e9 },
  }).ready;
  t.equal(n.status.allocatable.memory, `${Math.floor((8 * 1024 ** 3 * 0.95) / 1024)}Ki`);
  t.equal(n.status.allocatable['ephemeral-storage'], String(99e9));
  await flush();
  pressure = new Set(['MemoryPressure', 'PIDPressure']);
  wake();
  await flush();
  const got = (await client.get(core('nodes'), 'n')).status.conditions;
  t.match(got.find((c: { type: string }) => c.type === 'MemoryPressure'), { status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' });
  t.match(got.find((c: { type: string }) => c.type === 'PIDPressure'), { status: 'True', reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' });
  t.match(got.find((c: { type: string }) => c.type === 'DiskPressure'), { status: 'False', reason: 'KubeletHasNoDiskPressure' });
});

t.test('node events as the kubelet words them: Starting, then one per condition status change', async (t) => {
  t.same(conditionEvents(undefined, [{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'False' }, { type: 'DiskPressure', status: 'False' }, { type: 'PIDPressure', status: 'False' }]),
    ['NodeHasSufficientMemory', 'NodeHasNoDiskPressure', 'NodeHasSufficientPID', 'NodeReady']);
  t.same(conditionEvents([{ type: 'Ready', status: 'False' }, { type: 'DiskPressure', status: 'False' }], [{ type: 'Ready', status: 'True' }, { type: 'DiskPressure', status: 'True' }]), ['NodeHasDiskPressure', 'NodeReady']);
  t.same(conditionEvents([{ type: 'Ready', status: 'True' }], [{ type: 'Ready', status: 'True' }]), []);
  const client = new FakeClient();
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const events: string[] = [];
  const recorder = { event: (o: { kind?: string; metadata: { name?: string } }, _t: string, reason: string, msg: string) => events.push(`${o.kind}/${o.metadata.name} ${reason}: ${msg}`) };
  await startNode({ client, cri: new FakeCri(), nodeName: 'n', nodeIP: '10.0.0.1', dataDir: '/nonexistent', signal: ac.signal, clock: new FakeClock(), facts: () => facts(), recorder }).ready;
  await new Promise((r) => setImmediate(r));
  t.equal(events[0], 'Node/n Starting: Starting kubelet.');
  t.ok(events.includes('Node/n NodeHasSufficientMemory: Node n status is now: NodeHasSufficientMemory'), events.join('; '));
});

t.test('--node-taint: the Node is registered with the taints; bad ones are refused with the kubelet wording', async (t) => {
  t.same(parseTaint('dedicated=edge:NoSchedule'), { key: 'dedicated', value: 'edge', effect: 'NoSchedule' });
  t.same(parseTaint('node-role.kubernetes.io/control-plane:NoExecute'), { key: 'node-role.kubernetes.io/control-plane', effect: 'NoExecute' });
  t.throws(() => parseTaint('dedicated=edge'), /invalid taint spec: dedicated=edge: the effect must be one of NoSchedule, PreferNoSchedule, NoExecute/);
  t.throws(() => parseTaint('bad key:NoSchedule'), /invalid taint key/);
  t.throws(() => parseTaint('k=bad value:NoSchedule'), /invalid taint value/);
  const node = newNode({ nodeName: 'n1', nodeIP: '10.0.0.1', containerRuntimeVersion: 'x', taints: ['CriticalAddonsOnly=true:NoExecute'] },
    { cpus: 1, memoryBytes: 1, diskBytes: 1, arch: 'arm64', os: 'linux', kernelVersion: 'k', osImage: 'o', machineId: 'm', bootId: 'b' } as never);
  t.same(node.spec?.taints, [{ key: 'CriticalAddonsOnly', value: 'true', effect: 'NoExecute' }]);
});
