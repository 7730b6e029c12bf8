// End to end: the kubelet on a real containerd (supervised by tsk, inside a network namespace this test creates),
// with tsk's own pause image and a busybox image built from /bin/busybox. Needs root, containerd, runc, CNI plugins.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { core } from '../lib/client/types.ts';
import { FakeClient } from '../lib/client/fake.ts';
import { startContainerRuntime, type ContainerRuntime } from '../lib/agent/containerd/runtime.ts';
import { gzipSync } from 'node:zlib';
import type { CriRuntime } from '../lib/agent/cri/types.ts';
import { criConformance } from '../lib/agent/cri/conformance.ts';
import { busyboxImageArchive, PAUSE_IMAGE } from '../lib/agent/images/builtin.ts';
import { startKubelet } from '../lib/agent/kubelet/kubelet.ts';
import { removePodCgroups } from '../lib/agent/kubelet/cgroups.ts';
import { containerdTestEnv, hasCommand as has } from '../lib/agent/containerd/test-fixture.ts';
import type { Pod } from '../lib/agent/kubelet/pod-types.ts';

const skip = process.getuid?.() !== 0 ? 'needs root'
  : !has('containerd') || !has('runc') || !has('ctr') || !existsSync('/usr/lib/cni/bridge') || !existsSync('/bin/busybox') ? 'needs containerd, runc, CNI plugins and busybox-static'
    : false;

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; i < 10_000; i++) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
}

t.test('kubelet runs a pod on containerd', { skip, timeout: 180_000 }, async (t) => {
  const { id, dataDir, netns } = containerdTestEnv(t, { name: 'tsk-kt', dirPrefix: 'tsk-kubelet-e2e-' });
  const ac = new AbortController();
  let rt: ContainerRuntime | undefined;
  let cri: CriRuntime | undefined;
  let stopKubelet: (() => Promise<void>) | undefined;
  const podUids: string[] = [];
  t.teardown(async () => {
    await stopKubelet?.().catch(() => {});
    if (cri) {
      // Remove whatever the test left (the pod normally is gone already).
      for (const s of await cri.listPodSandbox().catch(() => [])) {
        await cri.stopPodSandbox(s.id).catch(() => {});
        await cri.removePodSandbox(s.id).catch(() => {});
      }
    }
    await rt?.stop();
    ac.abort();
    for (const uid of podUids) removePodCgroups(uid);
  });

  try {
    execFileSync('ip', ['netns', 'add', netns], { stdio: 'pipe' });
  } catch (e) {
    t.comment(`SKIP: cannot create a network namespace here: ${String(e).slice(0, 200)}`);
    return;
  }
  execFileSync('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
  const cniConfDir = join(dataDir, 'agent', 'etc', 'cni');
  // A test-local bridge network (inside the test's netns): bridge + host-local + portmap.
  mkdirSync(cniConfDir, { recursive: true });
  writeFileSync(join(cniConfDir, '10-test.conflist'), JSON.stringify({
    cniVersion: '1.0.0', name: netns,
    plugins: [
      { type: 'bridge', bridge: `tskkt${id}`, isGateway: true, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.199.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(dataDir, 'agent', 'cni-ipam') } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }));

  // The busybox image arrives through the air-gap directory (gzip-compressed), registries.yaml through a temp file.
  mkdirSync(join(dataDir, 'agent', 'images'), { recursive: true });
  writeFileSync(join(dataDir, 'agent', 'images', 'busybox.tar.gz'), gzipSync(busyboxImageArchive('docker.io/library/busybox:tsk-test')));
  const registriesFile = join(dataDir, 'registries.yaml');
  writeFileSync(registriesFile, 'mirrors:\n  docker.io:\n    endpoint: ["http://127.0.0.1:5999"]\n');
  rt = await startContainerRuntime({ dataDir, signal: ac.signal, cniConfDir, netns, registriesFile, airgapPollMs: 1000 });
  cri = rt.cri;
  t.ok(rt.containerd?.pid(), 'containerd runs');
  t.ok(await cri.imageStatus(PAUSE_IMAGE), 'pause image imported');
  t.ok(await cri.imageStatus('docker.io/library/busybox:tsk-test'), 'air-gap image imported');
  t.match(readFileSync(join(dataDir, 'agent', 'containerd', 'certs.d', 'docker.io', 'hosts.toml'), 'utf8'), /\[host\."http:\/\/127\.0\.0\.1:5999"\]/, 'mirror rendered');

  await criConformance(t, cri, { image: 'docker.io/library/busybox:tsk-test', logDir: join(dataDir, 'conformance-logs'), uid: `conformance-${id}` });

  const client = new FakeClient();
  client.seed(core('configmaps'), { metadata: { name: 'app', namespace: 'default' }, data: { greeting: 'hello-from-configmap' } });
  client.seed(core('pods'), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
    spec: {
      nodeName: 'node-e2e', terminationGracePeriodSeconds: 3,
      volumes: [{ name: 'cfg', configMap: { name: 'app' } }, { name: 'work', emptyDir: {} }],
      initContainers: [{ name: 'prep', image: 'docker.io/library/busybox:tsk-test', imagePullPolicy: 'Never', command: ['sh', '-c', 'echo prepared > /work/init.txt'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
      containers: [{
        name: 'main', image: 'docker.io/library/busybox:tsk-test', imagePullPolicy: 'Never',
        command: ['sh', '-c', 'echo "start $GREETING $(cat /work/init.txt)"; while [ ! -f /tmp/stop ]; do sleep 0.2; done; echo stopped-by-test > /dev/termination-log; exit 3'],
        env: [{ name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'app', key: 'greeting' } } }],
        volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }, { name: 'work', mountPath: '/work' }],
        readinessProbe: { exec: { command: ['cat', '/etc/app/greeting'] }, periodSeconds: 1 },
      }],
    },
  });
  const k = startKubelet({ client, cri, nodeName: 'node-e2e', registerNode: true, dataDir, signal: ac.signal, relistMs: 500, nodeIP: '127.0.0.1', backoffInitialMs: 1000 });
  stopKubelet = k.stop;
  await k.ready;
  const node = await client.get(core('nodes'), 'node-e2e');
  t.match(node.status?.nodeInfo?.containerRuntimeVersion, /^containerd:\/\/1\./, 'node registered with the runtime version');
  const get = () => client.get<Pod>(core('pods'), 'web', 'default');
  podUids.push((await get()).metadata.uid!);

  const running = await until('pod Running and Ready', async () => {
    const p = await get();
    return p.status?.phase === 'Running' && p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && p;
  });
  t.match(running.status?.podIP, /^10\.199\.0\.\d+$/, 'pod IP from the bridge network');
  const podCgroup = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup'].map((r) => join(r, 'kubepods', 'besteffort', `pod${running.metadata.uid}`)).find((d) => existsSync(d));
  t.ok(podCgroup, 'pod cgroup under /kubepods/besteffort');
  t.equal(running.status?.initContainerStatuses?.[0]?.state.terminated?.exitCode, 0, 'init container completed');
  const logFile = join(dataDir, 'agent', 'pod-logs', `default_web_${running.metadata.uid}`, 'main', '0.log');
  const log = await until('container log', async () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('start') && readFileSync(logFile, 'utf8'));
  t.match(log, /Z stdout F start hello-from-configmap prepared/, 'CRI log line with env and init output');

  let logText = '';
  for await (const chunk of await k.kubelet.logs('default', 'web', { container: 'main' })) logText += chunk;
  t.match(logText, /^start hello-from-configmap prepared\n/, 'kubectl-logs rendering');
  const hosts = await cri.execSync(running.status!.containerStatuses![0]!.containerID!.replace('containerd://', ''), ['cat', '/etc/hosts'], 10);
  t.match(hosts.stdout.toString(), new RegExp(`^${running.status!.podIP!.replace(/\./g, '\\.')}\\tweb$`, 'm'), 'kubelet-managed /etc/hosts names the pod');
  t.match(await k.kubelet.exec('default', 'web', { command: ['sh'], stdin: true, tty: true }), /^http:\/\/127\.0\.0\.1:\d+\/exec\//, 'exec streaming URL');
  const cid = running.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
  await cri.execSync(cid, ['touch', '/tmp/stop'], 10);
  const restarted = await until('container restarted', async () => {
    const p = await get();
    const s = p.status?.containerStatuses?.[0];
    return s && s.restartCount >= 1 && s.state.running && p;
  });
  t.equal(restarted.status!.containerStatuses![0]!.lastState.terminated?.exitCode, 3, 'last exit code reported');
  t.equal(restarted.status!.containerStatuses![0]!.lastState.terminated?.message, 'stopped-by-test\n', 'termination message reported');

  const p = await get();
  p.metadata.deletionTimestamp = new Date().toISOString();
  p.metadata.deletionGracePeriodSeconds = 2;
  await client.update(core('pods'), p);
  await until('pod object deleted', async () => { try { await get(); return false; } catch (e) { return (e as { code?: number }).code === 404; } });
  const left = await cri.listContainers();
  t.equal(left.length, 0, 'containers removed');
  t.equal((await cri.listPodSandbox()).length, 0, 'sandbox removed');
  t.notOk(existsSync(join(dataDir, 'agent', 'pods', running.metadata.uid!)), 'pod dir removed');
  if (podCgroup) t.notOk(existsSync(podCgroup), 'pod cgroup removed');
});
