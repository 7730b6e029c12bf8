// Node (kubelet) behaviour end to end: `tsk server` (node cmd/tsk.ts) in a network namespace with its own containerd
// and a seeded busybox image, driven by the real kubectl. Volumes (configMap, secret, projected token), readiness
// gating endpoints, liveness restarts, CrashLoopBackOff, OOMKilled, RuntimeClass handlers and overhead, preStop + grace
// period, containers surviving a restart of tsk, kubectl cp, kubectl attach and kubectl debug.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kc, KUBECTL, kubectl, nsPrefix, startNetnsServer, startServer, waitFor, waitNodeReady } from './harness.ts';

const NODE = 'node-e2e';

function manifest(hostDir: string): string {
  const pod = (name: string, spec: object, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec });
  const c = (command: string, extra: object = {}) => ({ name: 'main', image: 'busybox:latest', command: ['sh', '-c', command], ...extra });
  const items = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { greeting: 'hello-cm' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec' }, stringData: { password: 's3cret' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gated' }, spec: { selector: { app: 'gated' }, ports: [{ port: 80, targetPort: 8080 }] } },
    pod('vols', {
      containers: [c('i=0; while true; do echo tick-$i; i=$((i+1)); sleep 1; done', {
        volumeMounts: [
          { name: 'cm', mountPath: '/etc/cm' },
          { name: 'sec', mountPath: '/etc/sec' },
          { name: 'tok', mountPath: '/var/run/tok' },
        ],
      })],
      volumes: [
        { name: 'cm', configMap: { name: 'cm' } },
        { name: 'sec', secret: { secretName: 'sec' } },
        { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600, audience: 'e2e-aud' } }] } },
      ],
    }),
    pod('gated', {
      containers: [c('exec httpd -f -p 8080 -h /tmp', {
        readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 },
      })],
    }, { app: 'gated' }),
    pod('live', {
      containers: [c('exec sleep 3600', {
        livenessProbe: { exec: { command: ['test', '-f', '/nonexistent'] }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1 },
      })],
      terminationGracePeriodSeconds: 1,
    }),
    pod('crash', { containers: [c('exit 1')] }),
    pod('hardened', { securityContext: { seccompProfile: { type: 'RuntimeDefault' } }, containers: [c('exec sleep 3600')] }),
    pod('oom', {
      restartPolicy: 'Never',
      containers: [c('head -c 64m /dev/zero | tail', { resources: { limits: { memory: '16Mi' } } })],
    }),
    pod('prestop', {
      terminationGracePeriodSeconds: 10,
      volumes: [{ name: 'host', hostPath: { path: hostDir, type: 'Directory' } }],
      containers: [c("trap 'exit 0' TERM; while true; do sleep 1; done", {
        volumeMounts: [{ name: 'host', mountPath: '/host' }],
        lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop-ran > /host/marker; sleep 3'] } } },
      })],
    }),
  ];
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

t.test('node: volumes, probes, restarts, OOM, preStop, restart of tsk, cp and attach', async (t) => {
  // Container logs rotate at 2 KiB (at most 2 files): the `vols` pod's ticks rotate its log within the test.
  const started = await startNetnsServer(t, { prefix: 'tsk-node-e2e-', nodeName: NODE, args: ['--kubelet-arg=container-log-max-size=2Ki', '--kubelet-arg', 'container-log-max-files=2', '--node-taint', 'dedicated=edge:PreferNoSchedule'] });
  const { work, netns } = started;
  let server = started.server;
  const hostDir = join(work, 'host');
  mkdirSync(hostDir, { recursive: true });
  // Restarts register their teardown on this (outer) test: a subtest's teardown would stop the server when it ends.
  const restart = () => startServer(t, started.options);
  // The default service account exists before pods that need its token are created.
  await waitFor('default service account', () => kubectl(server, ['get', 'serviceaccount', 'default']).status === 0, 60_000);

  // --validate=false: see the report (client-side schema validation against this server's OpenAPI).
  kc(server, ['create', '--validate=false', '-f', '-'], manifest(hostDir));
  const get = (name: string, path: string) => kubectl(server, ['get', 'pod', name, '-o', `jsonpath=${path}`]).stdout;
  const running = (name: string) => waitFor(`${name} running`, () => get(name, '{.status.phase}') === 'Running', 120_000);

  t.test('the node registered with --node-taint', async (t) => {
    t.equal(kc(server, ['get', 'node', NODE, '-o', 'jsonpath={.spec.taints[*].key}={.spec.taints[*].value}:{.spec.taints[*].effect}']), 'dedicated=edge:PreferNoSchedule');
  });

  t.test('configMap, secret and projected token volumes', async (t) => {
    await running('vols');
    t.equal(kc(server, ['exec', 'vols', '--', 'cat', '/etc/cm/greeting']), 'hello-cm');
    t.equal(kc(server, ['exec', 'vols', '--', 'cat', '/etc/sec/password']), 's3cret');
    const token = kc(server, ['exec', 'vols', '--', 'cat', '/var/run/tok/token']);
    const parts = token.split('.');
    t.equal(parts.length, 3, 'a JWT');
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { aud?: string | string[]; sub?: string };
    t.match(JSON.stringify(claims.aud), /e2e-aud/);
    t.equal(claims.sub, 'system:serviceaccount:default:default');
  });

  t.test('readiness gates endpoints', async (t) => {
    await running('gated');
    const readyAddrs = () => kubectl(server, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=gated', '-o',
      'jsonpath={range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{" "}{end}']).stdout.trim();
    await waitFor('pod listed not ready', () => get('gated', '{.status.conditions[?(@.type=="Ready")].status}') === 'False', 60_000);
    t.equal(readyAddrs(), '', 'no ready endpoint while the probe fails');
    kc(server, ['exec', 'gated', '--', 'touch', '/tmp/ready']);
    const ip = get('gated', '{.status.podIP}');
    t.equal(await waitFor('ready endpoint', () => readyAddrs(), 60_000), ip);
  });

  t.test('liveness failure restarts the container; a crashing one shows CrashLoopBackOff', async (t) => {
    await waitFor('liveness restart', () => Number(get('live', '{.status.containerStatuses[0].restartCount}') || 0) >= 1, 90_000);
    t.pass('restartCount increased');
    await waitFor('CrashLoopBackOff', () => /crash\s+0\/1\s+CrashLoopBackOff/.test(kubectl(server, ['get', 'pod', 'crash']).stdout), 90_000);
    t.pass('kubectl get pod shows CrashLoopBackOff');
  });

  t.test('kubelet events: kubectl describe pod shows them', async (t) => {
    const described = kc(server, ['describe', 'pod', 'vols']);
    t.match(described, /Normal\s+Pulled\s+.*Container image "busybox:latest" already present on machine/);
    t.match(described, /Normal\s+Created\s+.*Created container main/);
    t.match(described, /Normal\s+Started\s+.*Started container main/);
    const reasons = (name: string) => kubectl(server, ['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}={.message}{"\\n"}{end}']).stdout;
    t.match(reasons('live'), /Unhealthy=Liveness probe failed: /);
    t.match(reasons('live'), /Killing=Container main failed liveness probe, will be restarted/);
    t.match(reasons('crash'), /BackOff=Back-off restarting failed container main in pod crash_default\(/);
  });

  t.test('seccomp RuntimeDefault filters syscalls; /proc/timer_list is masked', async (t) => {
    await running('hardened');
    t.match(kc(server, ['exec', 'hardened', '--', 'grep', 'Seccomp:', '/proc/self/status']), /Seccomp:\s+2/, 'a seccomp filter');
    t.match(kc(server, ['exec', 'vols', '--', 'grep', 'Seccomp:', '/proc/self/status']), /Seccomp:\s+0/, 'none asked for: unconfined');
    t.equal(kc(server, ['exec', 'vols', '--', 'sh', '-c', 'wc -c < /proc/timer_list']).trim(), '0', 'masked (/dev/null; the host\'s has content)');
    t.not(kubectl(server, ['exec', 'vols', '--', 'sh', '-c', 'echo 1 > /proc/sys/kernel/panic']).status, 0, '/proc/sys is read-only');
  });

  t.test('a memory limit produces OOMKilled', async (t) => {
    const reason = await waitFor('oom terminated', () => get('oom', '{.status.containerStatuses[0].state.terminated.reason}'), 90_000);
    t.equal(reason, 'OOMKilled');
    t.equal(get('oom', '{.status.phase}'), 'Failed');
  });

  t.test('RuntimeClass: the handler runs the pod, the overhead is set, a missing class or handler is reported', async (t) => {
    t.match(kc(server, ['get', 'runtimeclass', 'crun', '-o', 'jsonpath={.handler}']), /^crun$/, 'the runtimes k3s ships');
    const rc = (name: string, handler: string, extra: object = {}) => ({ apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name }, handler, ...extra });
    const pod = (name: string, runtimeClassName: string) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: { runtimeClassName, terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox:latest', command: ['sleep', '3600'] }] },
    });
    kc(server, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      rc('plain-runc', 'runc', { overhead: { podFixed: { cpu: '50m', memory: '8Mi' } } }), rc('nope', 'nope'),
    ] }));
    const missing = kubectl(server, ['create', '-f', '-'], JSON.stringify(pod('rc-missing', 'missing')));
    t.not(missing.status, 0);
    t.match(missing.stderr, 'pods "rc-missing" is forbidden: pod rejected: RuntimeClass "missing" not found');
    kc(server, ['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod('rc-runc', 'plain-runc'), pod('rc-nope', 'nope')] }));
    await running('rc-runc');
    t.equal(get('rc-runc', '{.spec.overhead.cpu} {.spec.overhead.memory}'), '50m 8Mi', 'overhead from the class');
    const event = await waitFor('FailedCreatePodSandBox', () => kubectl(server, ['get', 'events', '--field-selector', 'involvedObject.name=rc-nope,reason=FailedCreatePodSandBox', '-o', 'jsonpath={.items[*].message}']).stdout, 60_000);
    t.match(event, /Failed to create pod sandbox: .*no runtime for "nope" is configured/);
    t.equal(get('rc-nope', '{.status.phase} {.status.containerStatuses[0].state.waiting.reason}'), 'Pending ContainerCreating');
    kc(server, ['delete', 'pod', 'rc-runc', 'rc-nope', '--wait=false']);
  });

  t.test('kubectl debug: an ephemeral container in the PID namespace of its target', async (t) => {
    const out = kc(server, ['debug', 'vols', '--image=busybox:latest', '--image-pull-policy=IfNotPresent', '-c', 'dbg', '--target=main', '--', 'sleep', '3600']);
    t.match(out, /Targeting container "main"/);
    await waitFor('debug container running', () => get('vols', '{.status.ephemeralContainerStatuses[?(@.name=="dbg")].state.running.startedAt}') !== '', 60_000);
    t.match(kc(server, ['exec', 'vols', '-c', 'dbg', '--', 'ps', '-o', 'args']), /tick-/, 'sees the target container\'s processes');
    t.equal(get('vols', '{.status.containerStatuses[0].ready}'), 'true', 'the pod stays ready');
  });

  t.test('kubectl cp into and out of a pod', async (t) => {
    await running('vols');
    const src = join(work, 'cp-in.txt');
    writeFileSync(src, 'copied-content\n');
    kc(server, ['cp', src, 'vols:/tmp/cp-in.txt']);
    t.equal(kc(server, ['exec', 'vols', '--', 'cat', '/tmp/cp-in.txt']), 'copied-content\n');
    kc(server, ['exec', 'vols', '--', 'sh', '-c', 'echo from-pod > /tmp/cp-out.txt']);
    const dst = join(work, 'cp-out.txt');
    kc(server, ['cp', 'vols:/tmp/cp-out.txt', dst]);
    t.equal(readFileSync(dst, 'utf8'), 'from-pod\n');
  });

  t.test('kubectl attach', async (t) => {
    await running('vols');
    const pre = nsPrefix(netns);
    const out = await new Promise<string>((resolve) => {
      const child = spawn(pre[0]!, [...pre.slice(1), KUBECTL, '--kubeconfig', server.kubeconfig, 'attach', 'vols'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
        if (/tick-\d+\n/.test(buf)) child.kill('SIGKILL');
      });
      child.stderr.on('data', (d) => (buf += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', () => { clearTimeout(timer); resolve(buf); });
    });
    t.match(out, /tick-\d+\n/, 'attach streams the main process output');
  });

  t.test('delete runs preStop and honours the grace period', async (t) => {
    await running('prestop');
    const started = Date.now();
    kc(server, ['delete', 'pod', 'prestop', '--wait=true', '--timeout=60s']);
    const took = Date.now() - started;
    t.equal(readFileSync(join(hostDir, 'marker'), 'utf8'), 'prestop-ran\n', 'preStop ran');
    t.ok(took >= 3000, `the delete waited for preStop (${took} ms)`);
    t.ok(took < 25_000, `and did not run far past the 10 s grace period (${took} ms)`);
  });
  t.test('container logs rotate past --kubelet-arg=container-log-max-size; kubectl logs reads the live file', async (t) => {
    const uid = get('vols', '{.metadata.uid}');
    const dir = join(started.dataDir, 'agent', 'pod-logs', `default_vols_${uid}`, 'main');
    await waitFor('a rotated log file', () => readdirSync(dir).some((f) => /^0\.log\.\d{8}-\d{6}(\.gz)?$/.test(f)), 90_000);
    t.ok(readdirSync(dir).length <= 3, `at most the live file, one rotated and a moment's extra: ${readdirSync(dir).join(' ')}`);
    t.ok(statSync(join(dir, '0.log')).size < 8 * 1024, 'the live file stays small');
    // Right after a rotation the live file may still be empty: wait for the next tick.
    t.match(await waitFor('a tick in the live file', () => kubectl(server, ['logs', 'vols', '--tail=1']).stdout, 10_000), /^tick-\d+\n$/, 'kubectl logs reads the live file');
  });

  t.test('restart of tsk keeps running containers', async (t) => {
    await running('vols');
    await running('gated');
    const ids = () => kubectl(server, ['get', 'pods', 'vols', 'gated', '-o', 'jsonpath={.items[*].status.containerStatuses[0].containerID}']).stdout.trim();
    const before = ids();
    t.match(before, /^containerd:\/\/\S+ containerd:\/\/\S+$/);
    // SIGTERM, as a service manager stops it; containers keep running.
    const exited = new Promise<void>((r) => server.child.once('exit', () => r()));
    server.child.kill('SIGTERM');
    await exited;
    server = await restart();
    await waitNodeReady(server, NODE, 'node Ready again');
    // Give the kubelet a few sync rounds; the container IDs must stay the same.
    await waitFor('containers still running', () => get('vols', '{.status.containerStatuses[0].state.running.startedAt}') !== '' && /tick-/.test(kubectl(server, ['logs', 'vols', '--tail=1']).stdout), 60_000);
    t.equal(ids(), before, 'same container IDs after the restart');
    t.equal(get('vols', '{.status.containerStatuses[0].restartCount}'), '0');
    t.equal(kc(server, ['exec', 'vols', '--', 'cat', '/etc/cm/greeting']), 'hello-cm');
    // The pods stay Running through further sync rounds of the restarted kubelet.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const phases = kubectl(server, ['get', 'pods', 'vols', 'gated', '-o', 'jsonpath={.items[*].status.phase}']);
      if (phases.stdout !== 'Running Running') {
        t.fail(`pods left Running after the restart: ${JSON.stringify(phases)}\n${kubectl(server, ['get', 'pods', '-o', 'wide']).stdout}\n${kubectl(server, ['get', 'pod', 'vols', '-o', 'yaml']).stdout}\n${server.log().slice(-6000)}`);
        break;
      }
    }
    t.equal(ids(), before, 'still the same container IDs');
  });

});
