// Pure parts of the kubelet: the pod-sync plan, pod phase, CRI configs, volumes on disk, CRI log rendering.
import t from 'tap';
import { computePodActions, type ActionContext } from './actions.ts';
import { containerHash } from './labels.ts';
import type { ContainerSpec, Pod } from './pod-types.ts';
import type { PodRuntimeState, RuntimeContainer, RuntimeSandbox } from './runtime-state.ts';
import { computePhase } from './status.ts';
import { readFileSync, statSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClient } from '../../client/fake.ts';
import { core } from '../../client/types.ts';
import { RecordingRunner } from '../exec/runner.ts';
import { containerConfig, etcHosts, linuxResources, sandboxConfig, securityContext } from './cri-config.ts';
import { containerMounts, setUpVolumes, tearDownPodDir } from './volumes.ts';
import { followLogFile, parseCriLogLine, readLogFile, renderLogs } from './logs.ts';
import { tempDir } from '../../test-fixture.ts';

// ---- actions
const img = 'busybox';
const spec = (name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({ name, image: img, ...extra });

function pod(p: Partial<Pod['spec']> & { deleting?: boolean; phase?: string } = {}): Pod {
  const { deleting, phase, ...spec_ } = p;
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { containers: [spec('app')], ...spec_ },
    ...(phase ? { status: { phase: phase as 'Succeeded' } } : {}),
  };
}

let seq = 0;
const sb = (over: Partial<RuntimeSandbox> = {}): RuntimeSandbox => ({ id: 'sb1', state: 'SANDBOX_READY', attempt: 0, createdAt: 1, ip: '10.42.0.5', ...over });
function c(name: string, state: RuntimeContainer['state'], over: Partial<RuntimeContainer> = {}): RuntimeContainer {
  const s = spec(name);
  return {
    id: `c${++seq}`, sandboxId: 'sb1', name, kind: 'regular', attempt: 0, state, hash: containerHash(s), image: img, imageRef: 'sha256:x',
    createdAt: 100 - seq, startedAt: 1, finishedAt: 2, exitCode: 0, reason: '', message: '', logPath: '', ...over,
  };
}
const st = (containers: RuntimeContainer[], sandboxes: RuntimeSandbox[] = [sb()]): PodRuntimeState => ({ sandboxes, containers });
const ctx = (o: Partial<ActionContext> = {}): ActionContext => ({ inBackoff: () => false, probeKill: () => false, started: () => true, ...o });

interface Case {
  name: string;
  pod: Pod;
  state: PodRuntimeState;
  ctx?: Partial<ActionContext>;
  want: Partial<ReturnType<typeof computePodActions>>;
}

const cases: Case[] = [
  { name: 'new pod: sandbox and all containers', pod: pod({ containers: [spec('a'), spec('b')] }), state: st([], []), want: { createSandbox: true, killPod: false, sandboxAttempt: 0, startContainers: ['a', 'b'] } },
  { name: 'new pod with init containers: only the first init', pod: pod({ initContainers: [spec('i1'), spec('i2')] }), state: st([], []), want: { createSandbox: true, startInit: 'i1', startContainers: [] } },
  { name: 'first init done: second init', pod: pod({ initContainers: [spec('i1'), spec('i2')] }), state: st([c('i1', 'CONTAINER_EXITED')]), want: { startInit: 'i2', startContainers: [] } },
  { name: 'init running: wait', pod: pod({ initContainers: [spec('i1')] }), state: st([c('i1', 'CONTAINER_RUNNING')]), want: { startInit: undefined, startContainers: [] } },
  { name: 'inits done: containers', pod: pod({ initContainers: [spec('i1')] }), state: st([c('i1', 'CONTAINER_EXITED')]), want: { startContainers: ['app'] } },
  { name: 'init failed, Always: restart it', pod: pod({ initContainers: [spec('i1')] }), state: st([c('i1', 'CONTAINER_EXITED', { exitCode: 1 })]), want: { startInit: 'i1' } },
  { name: 'init failed in backoff', pod: pod({ initContainers: [spec('i1')] }), state: st([c('i1', 'CONTAINER_EXITED', { exitCode: 1 })]), ctx: { inBackoff: () => true }, want: { startInit: undefined, backoff: ['i1'] } },
  { name: 'init failed, Never: pod fails', pod: pod({ restartPolicy: 'Never', initContainers: [spec('i1')] }), state: st([c('i1', 'CONTAINER_EXITED', { exitCode: 1 })]), want: { terminal: true, killPod: true } },
  { name: 'sidecar starts, next init waits until it runs', pod: pod({ initContainers: [spec('side', { restartPolicy: 'Always' }), spec('i2')] }), state: st([], []), want: { createSandbox: true, startInit: 'side' } },
  { name: 'sidecar running: next init', pod: pod({ initContainers: [spec('side', { restartPolicy: 'Always' }), spec('i2')] }), state: st([c('side', 'CONTAINER_RUNNING', { hash: '' })]), want: { startInit: 'i2' } },
  { name: 'sidecar not started (startup probe): wait', pod: pod({ initContainers: [spec('side', { restartPolicy: 'Always' }), spec('i2')] }), state: st([c('side', 'CONTAINER_RUNNING', { hash: '' })]), ctx: { started: () => false }, want: { startInit: undefined, startContainers: [] } },
  { name: 'sidecar exited after the pod started: restarted even with Never', pod: pod({ restartPolicy: 'Never', initContainers: [spec('side', { restartPolicy: 'Always' })] }), state: st([c('side', 'CONTAINER_EXITED', { exitCode: 1 }), c('app', 'CONTAINER_RUNNING')]), want: { startInit: 'side', startContainers: [] } },
  { name: 'running: nothing to do', pod: pod(), state: st([c('app', 'CONTAINER_RUNNING')]), want: { createSandbox: false, killPod: false, startContainers: [], killContainers: [] } },
  { name: 'exited, Always: restart', pod: pod(), state: st([c('app', 'CONTAINER_EXITED')]), want: { startContainers: ['app'] } },
  { name: 'exited, backoff', pod: pod(), state: st([c('app', 'CONTAINER_EXITED', { exitCode: 1 })]), ctx: { inBackoff: () => true }, want: { startContainers: [], backoff: ['app'] } },
  { name: 'exited 0, OnFailure: done → terminal', pod: pod({ restartPolicy: 'OnFailure' }), state: st([c('app', 'CONTAINER_EXITED')]), want: { startContainers: [], terminal: true, killPod: true } },
  { name: 'exited 1, OnFailure: restart', pod: pod({ restartPolicy: 'OnFailure' }), state: st([c('app', 'CONTAINER_EXITED', { exitCode: 1 })]), want: { startContainers: ['app'] } },
  { name: 'exited, Never: terminal', pod: pod({ restartPolicy: 'Never' }), state: st([c('app', 'CONTAINER_EXITED', { exitCode: 1 })]), want: { terminal: true, killPod: true } },
  { name: 'liveness failed: kill and restart', pod: pod(), state: st([c('app', 'CONTAINER_RUNNING', { id: 'live' })]), ctx: { probeKill: (_n, id) => id === 'live' }, want: { killContainers: [{ id: 'live', name: 'app', reason: 'probe failed' }], startContainers: ['app'] } },
  { name: 'spec changed: kill and restart', pod: pod(), state: st([c('app', 'CONTAINER_RUNNING', { id: 'old', hash: 'different' })]), want: { killContainers: [{ id: 'old', name: 'app', reason: 'spec changed' }], startContainers: ['app'] } },
  { name: 'sandbox died: new sandbox, attempt+1', pod: pod(), state: st([c('app', 'CONTAINER_EXITED')], [sb({ state: 'SANDBOX_NOTREADY', attempt: 2 })]), want: { createSandbox: true, killPod: false, sandboxAttempt: 3, startContainers: ['app'] } },
  { name: 'sandbox without IP: recreate', pod: pod(), state: st([], [sb({ ip: undefined })]), want: { createSandbox: true, killPod: true } },
  { name: 'hostNetwork sandbox needs no IP', pod: pod({ hostNetwork: true }), state: st([c('app', 'CONTAINER_RUNNING')], [sb({ ip: undefined })]), want: { createSandbox: false } },
  { name: 'new sandbox running: old ones are removed', pod: pod(), state: st([c('app', 'CONTAINER_RUNNING')], [sb(), sb({ id: 'old', state: 'SANDBOX_NOTREADY', createdAt: 0 })]), want: { removeSandboxes: ['old'], createSandbox: false } },
  { name: 'sandbox died, Never, containers ran: terminal', pod: pod({ restartPolicy: 'Never' }), state: st([c('app', 'CONTAINER_EXITED', { exitCode: 137 })], [sb({ state: 'SANDBOX_NOTREADY' })]), want: { terminal: true, createSandbox: false } },
  { name: 'deleting: kill', pod: pod({ deleting: true }), state: st([c('app', 'CONTAINER_RUNNING')]), want: { killPod: true, createSandbox: false, startContainers: [] } },
  { name: 'deleting, already stopped', pod: pod({ deleting: true }), state: st([c('app', 'CONTAINER_EXITED')], [sb({ state: 'SANDBOX_NOTREADY' })]), want: { killPod: false } },
  { name: 'terminal phase: never start again', pod: pod({ phase: 'Succeeded' }), state: st([c('app', 'CONTAINER_EXITED')], [sb({ state: 'SANDBOX_NOTREADY' })]), want: { terminal: true, killPod: false, createSandbox: false, startContainers: [] } },
];

for (const tc of cases) {
  t.test(tc.name, async (t) => {
    t.match(computePodActions(tc.pod, tc.state, ctx(tc.ctx)), tc.want);
  });
}

t.test('old exited containers beyond the newest two per name are removed', async (t) => {
  const cs = [c('app', 'CONTAINER_RUNNING', { id: 'n1', createdAt: 30 }), c('app', 'CONTAINER_EXITED', { id: 'n2', createdAt: 20 }), c('app', 'CONTAINER_EXITED', { id: 'n3', createdAt: 10 })];
  t.same(computePodActions(pod(), st(cs), ctx()).removeContainers, ['n3']);
});

t.test('phase', async (t) => {
  const s = (state: object, last: object = {}) => ({ name: 'x', state, lastState: last, ready: false, restartCount: 0, image: '', imageID: '' });
  const p = (restartPolicy: 'Always' | 'Never' | 'OnFailure') => pod({ restartPolicy });
  t.equal(computePhase(p('Always'), [], [s({ waiting: { reason: 'ContainerCreating' } })], true), 'Pending');
  t.equal(computePhase(p('Always'), [], [s({ running: {} })], true), 'Running');
  t.equal(computePhase(p('Always'), [], [s({ waiting: { reason: 'CrashLoopBackOff' } }, { terminated: { exitCode: 1 } })], true), 'Running');
  t.equal(computePhase(p('Never'), [], [s({ terminated: { exitCode: 0 } }), s({ terminated: { exitCode: 0 } })], true), 'Succeeded');
  t.equal(computePhase(p('Never'), [], [s({ terminated: { exitCode: 0 } }), s({ terminated: { exitCode: 2 } })], true), 'Failed');
  t.equal(computePhase(p('OnFailure'), [], [s({ terminated: { exitCode: 0 } })], true), 'Succeeded');
  t.equal(computePhase(p('Never'), [], [s({ running: {} }), s({ terminated: { exitCode: 2 } })], true), 'Running');
  t.equal(computePhase(p('Never'), [s({ terminated: { exitCode: 1 } })], [s({ waiting: {} })], false), 'Failed');
  t.equal(computePhase(p('Always'), [s({ terminated: { exitCode: 1 } })], [s({ waiting: {} })], false), 'Pending');
});

// ---- cri-config
const mkPod = (spec: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { note: 'x' } },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'img' }], ...spec },
});

t.test('sandbox config: hostname, ports, labels, namespaces, log dir', async (t) => {
  const p = mkPod({ containers: [{ name: 'c', image: 'img', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, protocol: 'UDP', hostPort: 53 }, { containerPort: 9000 }] }], securityContext: { runAsUser: 1000, fsGroup: 2000, sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] } });
  const c = sandboxConfig(p, { logsRoot: '/d/pod-logs', attempt: 1, dns: { servers: ['10.43.0.10'], searches: [], options: [] } });
  t.same(c.metadata, { name: 'web', uid: 'u-1', namespace: 'shop', attempt: 1 });
  t.equal(c.hostname, 'web');
  t.equal(c.log_directory, '/d/pod-logs/shop_web_u-1');
  t.same(c.port_mappings, [{ protocol: 'TCP', container_port: 80, host_port: 8080, host_ip: '' }, { protocol: 'UDP', container_port: 53, host_port: 53, host_ip: '' }]);
  t.match(c.labels, { app: 'web', 'io.kubernetes.pod.uid': 'u-1', 'io.tsk.managed': 'true' });
  t.same(c.linux?.security_context?.namespace_options, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
  t.same(c.linux?.security_context?.supplemental_groups, [2000]);
  t.same(c.linux?.sysctls, { 'net.core.somaxconn': '1024' });
  const h = sandboxConfig(mkPod({ hostNetwork: true, hostPID: true }), { logsRoot: '/d', attempt: 0 });
  t.equal(h.hostname, undefined, 'host network keeps the node hostname');
  t.same(h.linux?.security_context?.namespace_options, { network: 'NODE', pid: 'NODE', ipc: 'POD' });
});

t.test('/etc/hosts with the pod name, subdomain FQDN and hostAliases', async (t) => {
  const h = etcHosts(mkPod({ hostname: 'db-0', subdomain: 'db', hostAliases: [{ ip: '10.0.0.1', hostnames: ['foo.local', 'bar.local'] }] }), '10.42.0.7', 'cluster.local');
  t.match(h, /^127\.0\.0\.1\tlocalhost$/m);
  t.match(h, /^10\.42\.0\.7\tdb-0\.db\.shop\.svc\.cluster\.local\tdb-0$/m);
  t.match(h, /# Entries added by HostAliases\.\n10\.0\.0\.1\tfoo\.local\tbar\.local\n$/);
  t.match(etcHosts(mkPod(), '10.42.0.8', 'cluster.local'), /^10\.42\.0\.8\tweb$/m);
});

t.test('resources and security context', async (t) => {
  t.same(linuxResources({ name: 'c', image: 'i' }), { cpu_shares: 2, cpu_period: 100_000, oom_score_adj: 0 });
  t.same(linuxResources({ name: 'c', image: 'i', resources: { requests: { cpu: '250m' }, limits: { cpu: '1', memory: '128Mi' } } }),
    { cpu_shares: 256, cpu_period: 100_000, cpu_quota: 100_000, memory_limit_in_bytes: 128 * 1024 * 1024, oom_score_adj: 0 });
  const p = mkPod({ securityContext: { runAsUser: 1000, runAsGroup: 3000 } });
  const sc = securityContext(p, { name: 'c', image: 'i', securityContext: { runAsUser: 2000, privileged: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } } });
  t.match(sc, { privileged: true, readonly_rootfs: true, no_new_privs: true, run_as_user: { value: 2000 }, run_as_group: { value: 3000 }, capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['ALL'] } });
  const cc = containerConfig(p, { name: 'c', image: 'i', workingDir: '/app', tty: true }, { kind: 'regular', attempt: 3, env: [], mounts: [], image: 'docker.io/library/i:latest' });
  t.match(cc, { metadata: { name: 'c', attempt: 3 }, working_dir: '/app', tty: true, log_path: 'c/3.log', image: { image: 'docker.io/library/i:latest' } });
  t.match(cc.annotations, { 'io.tsk.container.kind': 'regular', 'io.kubernetes.container.restartCount': '3' });
});

t.test('volumes: configMap, secret, downwardAPI, projected token, emptyDir (Memory → tmpfs), hostPath; teardown', async (t) => {
  const dir = tempDir(t, 'tsk-vol-');
  const client = new FakeClient();
  client.seed(core('configmaps'), { metadata: { name: 'cm', namespace: 'shop' }, data: { 'a.conf': 'A', b: 'B' } });
  client.seed(core('configmaps'), { metadata: { name: 'kube-root-ca.crt', namespace: 'shop' }, data: { 'ca.crt': 'CERT' } });
  client.seed(core('secrets'), { metadata: { name: 'sec', namespace: 'shop' }, data: { pw: Buffer.from('s3cret').toString('base64') } });
  const origCreateSub = client.createSubresource.bind(client);
  client.createSubresource = (async (ref, name, sub, body, ns) => {
    await origCreateSub(ref, name, sub, body, ns);
    return { ...body, status: { token: `token-for-${name}`, expirationTimestamp: '2030-01-01T00:00:00Z' } };
  }) as typeof client.createSubresource;
  const runner = new RecordingRunner();
  const p = mkPod({
    serviceAccountName: 'robot',
    volumes: [
      { name: 'cfg', configMap: { name: 'cm', items: [{ key: 'a.conf', path: 'conf/app.conf' }] } },
      { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
      { name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }, { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } }] } },
      { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'host', hostPath: { path: join(dir, 'host-data'), type: 'DirectoryOrCreate' } },
    ],
    containers: [{ name: 'c', image: 'i', volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }, { name: 'host', mountPath: '/data', subPath: 'sub' }, { name: 'mem', mountPath: '/cache' }] }],
  });
  const tokens = new Map();
  const paths = await setUpVolumes(p, { podsDir: join(dir, 'pods'), src: { configMap: (n) => client.get(core('configmaps'), n, 'shop'), secret: (n) => client.get(core('secrets'), n, 'shop') }, client, runner, field: {}, now: 0, tokens });
  t.equal(readFileSync(join(paths.get('cfg')!, 'conf/app.conf'), 'utf8'), 'A');
  t.equal(readFileSync(join(paths.get('sec')!, 'pw'), 'utf8'), 's3cret');
  t.equal(statSync(join(paths.get('sec')!, 'pw')).mode & 0o777, 0o400);
  t.equal(readFileSync(join(paths.get('info')!, 'labels'), 'utf8'), 'app="web"');
  t.equal(readFileSync(join(paths.get('kube-api-access')!, 'token'), 'utf8'), 'token-for-robot');
  t.equal(readFileSync(join(paths.get('kube-api-access')!, 'ca.crt'), 'utf8'), 'CERT');
  t.equal(readFileSync(join(paths.get('kube-api-access')!, 'namespace'), 'utf8'), 'shop');
  const tr = client.actions.find((a) => a.subresource === 'token')!;
  t.match(tr, { resource: 'serviceaccounts', name: 'robot', namespace: 'shop' });
  t.match(tr.object?.spec, { expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', name: 'web', uid: 'u-1' } });
  t.match(runner.lines()[0], /^mount -t tmpfs -o mode=0777,size=67108864 tmpfs .*\/volumes\/empty-dir\/mem$/);

  const mounts = containerMounts(p.spec.containers[0]!, paths, p);
  t.same(mounts.map((m) => [m.container_path, m.readonly]), [['/etc/app', true], ['/data', false], ['/cache', false]]);
  t.equal(mounts[1]!.host_path, join(dir, 'host-data', 'sub'));

  // A second pass does not rewrite unchanged files (no idle disk writes).
  const before = statSync(join(paths.get('cfg')!, 'conf/app.conf')).mtimeMs;
  await setUpVolumes(p, { podsDir: join(dir, 'pods'), src: { configMap: (n) => client.get(core('configmaps'), n, 'shop'), secret: (n) => client.get(core('secrets'), n, 'shop') }, client, runner, field: {}, now: 1, tokens });
  t.equal(statSync(join(paths.get('cfg')!, 'conf/app.conf')).mtimeMs, before, 'unchanged file untouched');
  t.equal(client.actions.filter((a) => a.subresource === 'token').length, 1, 'token cached');

  await tearDownPodDir(join(dir, 'pods'), 'u-1', runner);
  t.throws(() => statSync(join(dir, 'pods', 'u-1')));
});

// ---- logs
const sample = [
  '2026-11-23T11:09:26.318946006Z stdout F one',
  '2026-11-23T11:09:27.000000001Z stderr F oops',
  '2026-11-23T11:09:28.100000000Z stdout P par',
  '2026-11-23T11:09:28.200000000Z stdout F tial',
  '2026-11-23T11:09:29.000000000Z stdout F last',
  '',
].join('\n');

t.test('parse and render CRI log lines', async (t) => {
  t.same(parseCriLogLine('2026-11-23T11:09:26.318946006Z stdout F tick tock'), { time: '2026-11-23T11:09:26.318946006Z', stream: 'stdout', partial: false, text: 'tick tock' });
  t.equal(parseCriLogLine('garbage'), undefined);
  t.equal(renderLogs(sample), 'one\noops\npartial\nlast\n');
  t.equal(renderLogs(sample, { tailLines: 2 }), 'partial\nlast\n');
  t.equal(renderLogs(sample, { timestamps: true, tailLines: 1 }), '2026-11-23T11:09:29.000000000Z last\n');
  t.equal(renderLogs(sample, { sinceMs: Date.parse('2026-11-23T11:09:28Z') }), 'partial\nlast\n');
  t.equal(renderLogs(sample, { limitBytes: 6 }), 'one\noo');
  t.equal(renderLogs(sample, { stream: 'stderr' }), 'oops\n');
});

t.test('follow yields new lines and stops when the container stops', async (t) => {
  const dir = tempDir(t, 'tsk-logs-');
  const f = join(dir, '0.log');
  writeFileSync(f, sample);
  t.equal(await readLogFile(f, { tailLines: 1 }), 'last\n');
  let running = true;
  const ac = new AbortController();
  const got: string[] = [];
  const it = followLogFile(f, { signal: ac.signal, stillRunning: async () => running, pollMs: 10, tailLines: 1 });
  for await (const chunk of it) {
    got.push(chunk);
    if (got.length === 1) appendFileSync(f, '2026-11-23T11:09:30.000000000Z stdout F more\n');
    if (got.length === 2) running = false;
    if (got.length > 5) break;
  }
  t.same(got, ['last\n', 'more\n']);
});
