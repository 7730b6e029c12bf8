import t from 'tap';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { core, coordination, type KubeObject } from '../../client/types.ts';
import { FakeCri } from '../cri/fake.ts';
import { RecordingRunner } from '../exec/runner.ts';
import { startKubelet } from './kubelet.ts';
import type { Pod } from './pod-types.ts';
import { basePod, kubeletFixture } from './test-fixture.ts';
import { tempDir } from '../../test-fixture.ts';
import { MemoryStore } from '../../store/memory.ts';
import { createRegistry } from '../../server/registry/index.ts';
import { bootstrapObjects } from '../../server/registry/bootstrap.ts';

// ---- kubelet
const pods = core('pods');

t.test('the fake CRI passes the shared CRI conformance cases', async (t) => {
  const { criConformance } = await import('../cri/conformance.ts');
  await criConformance(t, new FakeCri(['docker.io/library/busybox:1.36']), { image: 'docker.io/library/busybox:1.36', logDir: '/tmp/none', uid: 'conf-1' });
});

t.test('init container, then the main container; status follows', async (t) => {
  const { client, cri, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('p1', { initContainers: [{ name: 'init', image: 'docker.io/library/busybox:1.36', command: ['true'] }] }));
  await kubelet.start();
  let p = await sync('p1');
  t.equal(cri.sandboxes.size, 1, 'sandbox created');
  const sb = [...cri.sandboxes.values()][0]!;
  t.equal(sb.config.hostname, 'p1');
  t.same(sb.config.dns_config?.servers, ['10.43.0.10']);
  t.match(sb.config.log_directory!, /pod-logs\/default_p1_uid-\d+$/);
  t.same(cri.byName('init').length, 1, 'init started');
  t.same(cri.byName('main').length, 0, 'main waits');
  t.equal(p.status?.phase, 'Pending');
  t.equal(p.status?.initContainerStatuses?.[0]?.state.running !== undefined, true);
  t.equal(p.status?.containerStatuses?.[0]?.state.waiting?.reason, 'PodInitializing');

  cri.exitContainer(cri.byName('init')[0]!.status.id, 0);
  p = await sync('p1');
  t.equal(cri.byName('main').length, 1, 'main started after init');
  t.equal(cri.byName('main')[0]!.status.state, 'CONTAINER_RUNNING');
  t.equal(p.status?.phase, 'Running');
  t.equal(p.status?.podIP, sb.status.network!.ip);
  t.equal(p.status?.hostIP, '192.168.1.10');
  t.equal(p.status?.initContainerStatuses?.[0]?.state.terminated?.reason, 'Completed');
  const cond = Object.fromEntries(p.status!.conditions!.map((c) => [c.type, c.status]));
  t.same(cond, { PodReadyToStartContainers: 'True', Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True' });

  const writes = client.actions.filter((a) => a.subresource === 'status').length;
  await sync('p1');
  t.equal(client.actions.filter((a) => a.subresource === 'status').length, writes, 'no write when nothing changed');
});

t.test('restarts with backoff shown as CrashLoopBackOff', async (t) => {
  const { client, cri, clock, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('p2'));
  await kubelet.start();
  await sync('p2');
  cri.exitContainer(cri.byName('main')[0]!.status.id, 1);
  clock.advance(1000);
  let p = await sync('p2');
  t.equal(cri.byName('main').length, 2, 'first restart is immediate');
  t.equal(p.status?.containerStatuses?.[0]?.restartCount, 1);
  t.equal(p.status?.containerStatuses?.[0]?.lastState.terminated?.exitCode, 1);

  cri.exitContainer(cri.byName('main').find((c) => c.status.state === 'CONTAINER_RUNNING')!.status.id, 2);
  clock.advance(1000);
  p = await sync('p2');
  t.equal(cri.byName('main').length, 2, 'no restart inside the backoff');
  t.equal(p.status?.containerStatuses?.[0]?.state.waiting?.reason, 'CrashLoopBackOff');
  t.equal(p.status?.containerStatuses?.[0]?.lastState.terminated?.exitCode, 2);
  t.equal(p.status?.phase, 'Running');
  t.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');

  clock.advance(10_000);
  p = await sync('p2');
  t.equal(cri.byName('main').filter((c) => c.status.state === 'CONTAINER_RUNNING').length, 1, 'restarted after 10 s');
  t.equal(p.status?.containerStatuses?.[0]?.restartCount, 2);
  t.ok(p.status?.containerStatuses?.[0]?.state.running);
});

t.test('restartPolicy Never: exit 0 → Succeeded, sandbox stopped; exit 1 → Failed', async (t) => {
  const { client, cri, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('ok', { restartPolicy: 'Never' }), basePod('bad', { restartPolicy: 'OnFailure' }));
  await kubelet.start();
  await sync('ok');
  await sync('bad');
  const okC = cri.containers.get([...cri.containers.values()].find((c) => c.config.labels?.['io.kubernetes.pod.name'] === 'ok')!.status.id)!;
  cri.exitContainer(okC.status.id, 0);
  let p = await sync('ok');
  t.equal(p.status?.phase, 'Succeeded');
  t.equal(p.status?.containerStatuses?.[0]?.state.terminated?.reason, 'Completed');
  t.equal(cri.sandboxes.get(okC.sandboxId)?.status.state, 'SANDBOX_NOTREADY');
  p = await sync('ok');
  t.equal(p.status?.phase, 'Succeeded', 'stays terminal');
  t.equal(cri.byName('main').filter((c) => c.sandboxId === okC.sandboxId).length, 1, 'not restarted');

  const badC = [...cri.containers.values()].find((c) => c.config.labels?.['io.kubernetes.pod.name'] === 'bad')!;
  cri.exitContainer(badC.status.id, 3);
  p = await sync('bad');
  t.equal(p.status?.containerStatuses?.[0]?.restartCount, 1, 'OnFailure restarts a failure');
});

t.test('env: value, fieldRef, configMapKeyRef, secretKeyRef, envFrom, $(VAR) expansion; missing configmap', async (t) => {
  const { client, cri, kubelet, sync } = kubeletFixture(t);
  client.seed(core('configmaps'), { metadata: { name: 'cm', namespace: 'default' }, data: { color: 'blue', A: '1' } });
  client.seed(core('secrets'), { metadata: { name: 'sec', namespace: 'default' }, data: { pw: Buffer.from('hunter2').toString('base64') } });
  client.seed(pods, basePod('env', {
    containers: [{
      name: 'main', image: 'docker.io/library/busybox:1.36', command: ['echo', '$(GREETING)'], args: ['$(MISSING)', '$$(ESC)'],
      envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
      env: [
        { name: 'NAME', value: 'world' },
        { name: 'GREETING', value: 'hello $(NAME)' },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cm', key: 'color' } } },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'pw' } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      ],
      resources: { limits: { memory: '64Mi', cpu: '500m' } },
    }],
  }), basePod('noconf', { containers: [{ name: 'main', image: 'docker.io/library/busybox:1.36', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }] }));
  await kubelet.start();
  await sync('env');
  const c = cri.byName('main')[0]!.config;
  const env = Object.fromEntries(c.envs!.map((e) => [e.key, e.value]));
  t.match(env, { CM_color: 'blue', CM_A: '1', NAME: 'world', GREETING: 'hello world', POD: 'env', NODE: 'n1', COLOR: 'blue', PW: 'hunter2', MEM: '64' });
  t.match(env.IP, /^10\.42\.0\.\d+$/);
  t.same(c.command, ['echo', 'hello world']);
  t.same(c.args, ['$(MISSING)', '$(ESC)']);
  t.equal(c.linux?.resources?.memory_limit_in_bytes, 64 * 1024 * 1024);
  t.equal(c.linux?.resources?.cpu_quota, 50_000);
  t.equal(c.log_path, 'main/0.log');

  const p = await sync('noconf');
  t.equal(p.status?.containerStatuses?.[0]?.state.waiting?.reason, 'CreateContainerConfigError');
  t.equal(p.status?.phase, 'Pending');
});

t.test('images: Never → ErrImageNeverPull; failed pull → ErrImagePull then ImagePullBackOff', async (t) => {
  const { client, cri, clock, kubelet, sync } = kubeletFixture(t);
  client.seed(pods,
    basePod('never', { containers: [{ name: 'main', image: 'example.com/app:1', imagePullPolicy: 'Never' }] }),
    basePod('pull', { containers: [{ name: 'main', image: 'example.com/app:2' }] }),
    basePod('ok', { containers: [{ name: 'main', image: 'example.com/app:3' }] }));
  cri.pullable.add('example.com/app:3');
  await kubelet.start();
  let p = await sync('never');
  t.equal(p.status?.containerStatuses?.[0]?.state.waiting?.reason, 'ErrImageNeverPull');
  p = await sync('pull');
  t.match(p.status?.containerStatuses?.[0]?.state.waiting?.reason, /^(ErrImagePull|ImagePullBackOff)$/);
  t.match(p.status?.containerStatuses?.[0]?.state.waiting?.message, /failed to pull image|Back-off pulling/);
  clock.advance(1000);
  p = await sync('pull');
  t.equal(p.status?.containerStatuses?.[0]?.state.waiting?.reason, 'ImagePullBackOff');
  t.equal(cri.calls.filter((c) => c.method === 'pullImage' && c.args[0] === 'example.com/app:2').length, 1, 'one pull inside the backoff');
  cri.pullable.add('example.com/app:2');
  clock.advance(10_000);
  p = await sync('pull');
  t.ok(p.status?.containerStatuses?.[0]?.state.running, 'pulled after the backoff');
  p = await sync('ok');
  t.ok(p.status?.containerStatuses?.[0]?.state.running);
  t.ok(cri.calls.some((c) => c.method === 'pullImage' && c.args[0] === 'example.com/app:3'));
});

t.test('readiness and liveness probes', async (t) => {
  const { client, cri, clock, kubelet, sync, probeResults } = kubeletFixture(t);
  client.seed(pods, basePod('probed', {
    containers: [{
      name: 'main', image: 'docker.io/library/busybox:1.36',
      readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
      livenessProbe: { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 2 },
    }],
  }));
  await kubelet.start();
  probeResults.set('main', 'failure');
  let p = await sync('probed');
  t.equal(p.status?.containerStatuses?.[0]?.ready, false, 'not ready before the first probe');
  probeResults.set('main', 'success');
  clock.advance(10);
  await new Promise((r) => setImmediate(r));
  p = await sync('probed');
  t.equal(p.status?.containerStatuses?.[0]?.ready, true);
  t.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');

  probeResults.set('main', 'failure');
  for (let i = 0; i < 3; i++) { clock.advance(1000); await new Promise((r) => setImmediate(r)); }
  p = await sync('probed');
  t.ok(cri.calls.some((c) => c.method === 'stopContainer'), 'liveness failure kills the container');
  t.equal(cri.byName('main').length, 2, 'and it is restarted');
  t.equal(p.status?.containerStatuses?.[0]?.restartCount, 1);
});

t.test('graceful deletion: preStop, stop, remove, then delete the pod object', async (t) => {
  const { client, cri, kubelet, sync, get, dataDir } = kubeletFixture(t);
  client.seed(core('configmaps'), { metadata: { name: 'cfg', namespace: 'default' }, data: { 'app.conf': 'x=1' } });
  client.seed(pods, basePod('del', {
    terminationGracePeriodSeconds: 5,
    volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }, { name: 'scratch', emptyDir: {} }],
    containers: [{
      name: 'main', image: 'docker.io/library/busybox:1.36', lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo bye'] } } },
      volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }, { name: 'scratch', mountPath: '/scratch' }],
    }],
  }));
  await kubelet.start();
  let p = await sync('del');
  const c = cri.byName('main')[0]!;
  const cfgMount = c.config.mounts!.find((m) => m.container_path === '/etc/app')!;
  t.equal(cfgMount.readonly, true);
  t.equal(readFileSync(join(cfgMount.host_path, 'app.conf'), 'utf8'), 'x=1');
  t.ok(cfgMount.host_path.startsWith(join(dataDir, 'agent', 'pods', p.metadata.uid!)));

  p.metadata.deletionTimestamp = new Date().toISOString();
  p.metadata.deletionGracePeriodSeconds = 5;
  await client.update(pods, p);
  await kubelet.idle();
  kubelet.schedule(p.metadata.uid!);
  await kubelet.idle();
  t.ok(cri.calls.some((x) => x.method === 'execSync' && (x.args[1] as string[]).includes('echo bye')), 'preStop ran');
  const stop = cri.calls.find((x) => x.method === 'stopContainer')!;
  t.ok((stop.args[1] as number) <= 5 && (stop.args[1] as number) >= 2, 'stop within the grace period');
  t.equal(cri.containers.size, 0, 'containers removed');
  t.equal(cri.sandboxes.size, 0, 'sandbox removed');
  await t.rejects(get('del'), { code: 404 });
  const del = client.actions.find((a) => a.verb === 'delete')!;
  t.equal(del.name, 'del');
});

t.test('orphaned sandboxes of pods gone from the API are removed', async (t) => {
  const { client, cri, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('gone'));
  await kubelet.start();
  const p = await sync('gone');
  t.equal(cri.sandboxes.size, 1);
  await client.delete(pods, 'gone', 'default');
  await kubelet.idle();
  kubelet.schedule(p.metadata.uid!);
  await kubelet.idle();
  t.equal(cri.sandboxes.size, 0);
  t.equal(cri.containers.size, 0);
});

t.test('sidecar: starts before the next init container, keeps running, restarted when it exits', async (t) => {
  const { client, cri, clock, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('side', {
    initContainers: [
      { name: 'proxy', image: 'docker.io/library/busybox:1.36', restartPolicy: 'Always' },
      { name: 'migrate', image: 'docker.io/library/busybox:1.36' },
    ],
  }));
  await kubelet.start();
  await sync('side');
  t.equal(cri.byName('proxy').length, 1, 'sidecar first');
  t.equal(cri.byName('migrate').length, 1, 'next init once the sidecar runs');
  cri.exitContainer(cri.byName('migrate')[0]!.status.id, 0);
  let p = await sync('side');
  t.equal(cri.byName('main').length, 1, 'main after the inits');
  t.equal(p.status?.phase, 'Running');
  t.equal(p.status?.initContainerStatuses?.find((s) => s.name === 'proxy')?.ready, true, 'sidecar ready');
  cri.exitContainer(cri.byName('proxy')[0]!.status.id, 1);
  clock.advance(1000);
  p = await sync('side');
  t.equal(cri.byName('proxy').length, 2, 'sidecar restarted');
  t.equal(cri.byName('main').length, 1, 'main untouched');
});

t.test('OOMKilled is reported as the termination reason', async (t) => {
  const { client, cri, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('oom', { restartPolicy: 'Never' }));
  await kubelet.start();
  await sync('oom');
  cri.exitContainer(cri.byName('main')[0]!.status.id, 137, 'OOMKilled');
  const p = await sync('oom');
  t.match(p.status?.containerStatuses?.[0]?.state.terminated, { exitCode: 137, reason: 'OOMKilled' });
  t.equal(p.status?.phase, 'Failed');
});

t.test('exec, attach, port-forward and logs lookups', async (t) => {
  const { client, cri, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('two', { containers: [{ name: 'a', image: 'docker.io/library/busybox:1.36' }, { name: 'b', image: 'docker.io/library/busybox:1.36' }] }));
  await kubelet.start();
  await sync('two');
  t.match(await kubelet.exec('default', 'two', { container: 'a', command: ['ls'] }), /\/exec\/c-/);
  t.match(await kubelet.attach('default', 'two', { container: 'b' }), /\/attach\/c-/);
  t.match(await kubelet.portForward('default', 'two', [80]), /\/portforward\/sb-/);
  await t.rejects(kubelet.exec('default', 'two', { command: ['ls'] }), { code: 400, message: /choose one of: \[a b\]/ } as unknown as Error);
  await t.rejects(kubelet.exec('default', 'nope', { command: ['ls'] }), { code: 404 } as unknown as Error);
  await t.rejects(kubelet.logs('default', 'two', { container: 'a', previous: true }), { message: /previous terminated container "a"/ } as unknown as Error);
  t.equal(cri.calls.filter((c) => c.method === 'exec').length, 1);
});

t.test('sandboxes wait for the pod network; hostNetwork pods do not', async (t) => {
  const { client, cri, clock, kubelet, sync } = kubeletFixture(t);
  cri.networkReady = false;
  client.seed(pods, basePod('net'), basePod('host', { hostNetwork: true }));
  await kubelet.start();
  let p = await sync('net');
  t.equal([...cri.sandboxes.values()].filter((s) => s.config.metadata.name === 'net').length, 0, 'no sandbox without a network');
  t.equal(p.status?.containerStatuses?.[0]?.state.waiting?.reason, 'ContainerCreating');
  p = await sync('host');
  t.equal(p.status?.podIP, '192.168.1.10', 'host network pod runs with the node IP');
  cri.networkReady = true;
  clock.advance(1500);
  p = await sync('net');
  t.ok(p.status?.containerStatuses?.[0]?.state.running, 'started once the network is ready');
});

// ---- registry
// The kubelet (on the fake CRI) against the real in-process registry: field-selected pod watch, status subresource
// writes, graceful deletion (deletionTimestamp → kill → delete with grace 0), node registration and its lease.
async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('kubelet with the in-process API registry', async (t) => {
  const dataDir = tempDir(t, 'tsk-kubelet-reg-');
  const store = new MemoryStore();
  const ac = new AbortController();
  const { client } = createRegistry({ store });
  await bootstrapObjects(client, { serviceCidr: '10.43.0.0/16' });
  const cri = new FakeCri(['docker.io/library/busybox:1.36']);
  const k = startKubelet({ client, cri, nodeName: 'node-a', dataDir, signal: ac.signal, nodeIP: '10.0.0.9', relistMs: 100, runner: new RecordingRunner(), podCgroups: false, clusterDns: ['10.43.0.10'] });
  t.teardown(async () => { await k.stop(); ac.abort(); store.close(); });
  await k.ready;

  const node = await client.get(core('nodes'), 'node-a');
  t.equal(node.metadata.labels?.['kubernetes.io/hostname'], 'node-a');
  t.ok(node.status?.nodeInfo?.kubeletVersion, 'node status written');
  await until('node lease', () => client.get(coordination('leases'), 'node-a', 'kube-node-lease'));

  await client.create(core('pods'), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
    spec: { nodeName: 'node-a', terminationGracePeriodSeconds: 5, containers: [{ name: 'c', image: 'docker.io/library/busybox:1.36' }] },
  } as KubeObject, 'default');
  await client.create(core('pods'), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'elsewhere', namespace: 'default' },
    spec: { nodeName: 'node-b', containers: [{ name: 'c', image: 'docker.io/library/busybox:1.36' }] },
  } as KubeObject, 'default');
  const running = await until('pod Running', async () => {
    const p = await client.get<Pod>(core('pods'), 'web', 'default');
    return p.status?.phase === 'Running' && p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && p;
  });
  t.equal(running.status?.hostIP, '10.0.0.9');
  await new Promise((r) => setTimeout(r, 500));
  const rv = (await client.get(core('pods'), 'web', 'default')).metadata.resourceVersion;
  await new Promise((r) => setTimeout(r, 600));
  t.equal((await client.get(core('pods'), 'web', 'default')).metadata.resourceVersion, rv, 'no status writes while nothing changes (6 relists)');
  t.equal(cri.sandboxes.size, 1, 'only the pod bound to this node runs');

  await client.delete(core('pods'), 'web', 'default');
  await until('pod gone', async () => { try { await client.get(core('pods'), 'web', 'default'); return false; } catch (e) { return (e as { code?: number }).code === 404; } });
  t.ok(cri.calls.some((c) => c.method === 'stopContainer'), 'containers stopped');
  t.equal(cri.sandboxes.size, 0, 'sandbox removed');
});

t.test('a dead sandbox is replaced (init containers run again) and then removed; restart counts carry on', async (t) => {
  const { client, cri, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('reboot', { initContainers: [{ name: 'init', image: 'docker.io/library/busybox:1.36' }] }));
  await kubelet.start();
  await sync('reboot');
  cri.exitContainer(cri.byName('init')[0]!.status.id, 0);
  await sync('reboot');
  const first = [...cri.sandboxes.keys()][0]!;
  await cri.stopPodSandbox(first);
  let p = await sync('reboot');
  t.equal(cri.byName('init').filter((c) => c.sandboxId !== first).length, 1, 'init runs in the new sandbox');
  cri.exitContainer(cri.byName('init').find((c) => c.sandboxId !== first)!.status.id, 0);
  p = await sync('reboot');
  t.notOk(cri.sandboxes.has(first), 'old sandbox removed');
  t.equal(cri.sandboxes.size, 1);
  t.ok(p.status?.containerStatuses?.[0]?.state.running);
  t.equal(p.status?.containerStatuses?.[0]?.restartCount, 1, 'restart count continues');
  t.equal(cri.byName('main')[0]!.config.metadata.attempt, 1);
});

t.test('termination messages: the file, or the log tail with FallbackToLogsOnError', async (t) => {
  const { client, cri, kubelet, sync } = kubeletFixture(t);
  client.seed(pods,
    basePod('msg', { restartPolicy: 'Never' }),
    basePod('fallback', { restartPolicy: 'Never', containers: [{ name: 'main', image: 'docker.io/library/busybox:1.36', terminationMessagePolicy: 'FallbackToLogsOnError' }] }));
  await kubelet.start();
  await sync('msg');
  await sync('fallback');
  const byPod = (name: string) => [...cri.containers.values()].find((c) => c.config.labels?.['io.kubernetes.pod.name'] === name)!;
  const m = byPod('msg');
  const mount = m.config.mounts!.find((x) => x.container_path === '/dev/termination-log')!;
  writeFileSync(mount.host_path, 'all done');
  cri.exitContainer(m.status.id, 0);
  let p = await sync('msg');
  t.equal(p.status?.containerStatuses?.[0]?.state.terminated?.message, 'all done');
  const f = byPod('fallback');
  mkdirSync(dirname(f.status.log_path), { recursive: true });
  writeFileSync(f.status.log_path, '2026-01-01T00:00:00.000000000Z stderr F panic: boom\n');
  cri.exitContainer(f.status.id, 2);
  p = await sync('fallback');
  t.equal(p.status?.containerStatuses?.[0]?.state.terminated?.message, 'panic: boom\n');
});

t.test('activeDeadlineSeconds: the pod is killed and fails with DeadlineExceeded', async (t) => {
  const { client, cri, clock, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('deadline', { activeDeadlineSeconds: 30 }));
  await kubelet.start();
  let p = await sync('deadline');
  t.ok(p.status?.containerStatuses?.[0]?.state.running);
  clock.advance(31_000);
  p = await sync('deadline');
  t.equal(p.status?.phase, 'Failed');
  t.equal(p.status?.reason, 'DeadlineExceeded');
  t.equal(cri.byName('main')[0]!.status.state, 'CONTAINER_EXITED');
  p = await sync('deadline');
  t.equal(cri.byName('main').length, 1, 'not restarted');
});

t.test('pods/log response: plain, tail, errors', async (t) => {
  const { podLogResponse } = await import('./log-response.ts');
  const { client, cri, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('logs'));
  await kubelet.start();
  await sync('logs');
  const c = cri.byName('main')[0]!;
  mkdirSync(dirname(c.status.log_path), { recursive: true });
  writeFileSync(c.status.log_path, '2026-01-01T00:00:00.000000000Z stdout F a\n2026-01-01T00:00:01.000000000Z stdout F b\n');
  let r = await podLogResponse(kubelet, 'default', 'logs', new URLSearchParams('tailLines=1&timestamps=true'));
  t.equal(r.status, 200);
  t.equal(await r.text(), '2026-01-01T00:00:01.000000000Z b\n');
  r = await podLogResponse(kubelet, 'default', 'logs', new URLSearchParams('container=nope'));
  t.equal(r.status, 400);
  r = await podLogResponse(kubelet, 'default', 'missing', new URLSearchParams());
  t.equal(r.status, 404);
  t.equal(((await r.json()) as { kind: string }).kind, 'Status');
  cri.exitContainer(c.status.id, 0);
  await kubelet.relist();
  r = await podLogResponse(kubelet, 'default', 'logs', new URLSearchParams('follow=true'));
  t.equal(await r.text(), 'a\nb\n', 'follow ends when the container is not running');
});

t.test('directories of pods deleted while the kubelet was down are removed at start', async (t) => {
  const { client, kubelet, dataDir } = kubeletFixture(t);
  client.seed(pods, basePod('alive'));
  const alive = (await client.list<Pod>(pods)).items[0]!.metadata.uid!;
  for (const uid of ['gone-uid', alive]) mkdirSync(join(dataDir, 'agent', 'pods', uid, 'volumes'), { recursive: true });
  mkdirSync(join(dataDir, 'agent', 'pod-logs', 'default_old_gone-uid', 'main'), { recursive: true });
  await kubelet.start();
  t.notOk(existsSync(join(dataDir, 'agent', 'pods', 'gone-uid')), 'orphan pod dir removed');
  t.notOk(existsSync(join(dataDir, 'agent', 'pod-logs', 'default_old_gone-uid')), 'orphan log dir removed');
  t.ok(existsSync(join(dataDir, 'agent', 'pods', alive)), 'live pod dir kept');
});

t.test('CreateContainerError is shown as the waiting reason', async (t) => {
  const { client, cri, kubelet, sync } = kubeletFixture(t);
  client.seed(pods, basePod('bad'));
  cri.failNext('createContainer');
  await kubelet.start();
  const p = await sync('bad');
  const w = p.status?.containerStatuses?.[0];
  t.ok(w?.state.running || w?.state.waiting?.reason === 'CreateContainerError', 'failed once, then retried');
  t.ok(cri.calls.filter((c) => c.method === 'createContainer').length >= 1);
  const failed = client.actions.filter((a) => a.subresource === 'status').map((a) => a.object?.status?.containerStatuses?.[0]?.state?.waiting);
  t.ok(failed.some((x) => x?.reason === 'CreateContainerError' && /injected failure/.test(x.message)), 'the failure was reported');
});
