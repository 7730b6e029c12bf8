// logs, exec (WebSocket and SPDY), attach (SPDY), port-forward and top end to end: `tsk server` (node cmd/tsk.ts) in a network namespace with its own
// containerd and a seeded busybox image, driven by the real kubectl.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { inNetns, kc, KUBECTL, kubectl, nsPrefix, startNetnsServer, waitFor } from './harness.ts';

t.test('kubectl logs, exec, port-forward and top', async (t) => {
  const { server, dataDir, netns } = await startNetnsServer(t, { prefix: 'tsk-streaming-e2e-', nodeName: 'stream-e2e' });

  kc(server, ['run', 'app', '--image=busybox:latest', '--restart=Never', '--', 'sh', '-c',
    'echo hello-pf > /tmp/index.html; httpd -p 8080 -h /tmp; i=0; while true; do echo line-$i; i=$((i+1)); sleep 1; done']);
  kc(server, ['run', 'crash', '--image=busybox:latest', '--', 'sh', '-c', 'echo run-once; sleep 1; exit 1']);

  // A pod still being created answers 400 with the reason, as upstream.
  const early = kubectl(server, ['logs', 'crash']);
  if (early.status !== 0) t.match(early.stderr, /is waiting to start|not found|previous terminated/);

  await waitFor('app running', () => kubectl(server, ['get', 'pod', 'app', '-o', 'jsonpath={.status.phase}']).stdout === 'Running', 90_000);
  await waitFor('three log lines', () => /line-2/.test(kubectl(server, ['logs', 'app']).stdout), 30_000);

  t.test('logs', async (t) => {
    t.match(kc(server, ['logs', 'app']), /^line-0\nline-1\n/);
    t.equal(kc(server, ['logs', 'app', '--tail=1']).trim().split('\n').length, 1);
    t.match(kc(server, ['logs', 'app', '--timestamps', '--tail=1']), /^\d{4}-\d\d-\d\dT\S+Z line-\d+\n$/);
    const pre = nsPrefix(netns);
    const follow = await new Promise<string>((resolve) => {
      const child = spawn(pre[0]!, [...pre.slice(1), KUBECTL, '--kubeconfig', server.kubeconfig, 'logs', '-f', 'app', '--tail=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.split('\n').length >= 4) child.kill('SIGKILL');
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', () => { clearTimeout(timer); resolve(out); });
    });
    t.ok(follow.split('\n').filter(Boolean).length >= 3, `logs -f streams new lines (${JSON.stringify(follow)})`);
    await waitFor('crash restarted', () => Number(kubectl(server, ['get', 'pod', 'crash', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}']).stdout || 0) >= 1, 60_000);
    t.match(kc(server, ['logs', 'crash', '--previous']), /run-once/);
    const missing = kubectl(server, ['logs', 'app', '-c', 'nope']);
    t.not(missing.status, 0);
    t.match(missing.stderr, /container nope is not valid for pod app/);
  });

  t.test('exec', async (t) => {
    t.equal(kc(server, ['exec', 'app', '--', 'echo', 'hi']), 'hi\n');
    const r = kubectl(server, ['exec', 'app', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    t.equal(r.status, 3, 'the exit code propagates');
    t.equal(r.stdout, 'out\n');
    t.match(r.stderr, /err/);
    t.equal(kc(server, ['exec', '-i', 'app', '--', 'cat'], 'piped-stdin\n'), 'piped-stdin\n', 'stdin reaches the command and its end ends cat');
  });

  // kubectl's SPDY/3.1 fallback for exec and attach (a POST upgrade), forced with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false.
  const withSpdy = <T>(fn: () => T): T => {
    process.env.KUBECTL_REMOTE_COMMAND_WEBSOCKETS = 'false';
    try { return fn(); } finally { delete process.env.KUBECTL_REMOTE_COMMAND_WEBSOCKETS; }
  };

  const WAIT_SIZE = 'i=0; while [ $i -lt 20 ]; do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; i=$((i+1)); sleep 0.5; done; echo "size=$s"';
  const shq = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

  t.test('exec over SPDY', async (t) => {
    t.equal(withSpdy(() => kc(server, ['exec', 'app', '--', 'echo', 'hi'])), 'hi\n');
    const r = withSpdy(() => kubectl(server, ['exec', 'app', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']));
    t.equal(r.status, 3, 'the exit code propagates');
    t.equal(r.stdout, 'out\n');
    t.match(r.stderr, /err/);
    t.equal(withSpdy(() => kc(server, ['exec', '-i', 'app', '--', 'cat'], 'piped-stdin\n')), 'piped-stdin\n', 'stdin reaches the command and its end ends cat');
    // A terminal: `script` gives kubectl a pty of 33x77, which kubectl sends on the resize stream. The size may
    // arrive just after the command starts, so the command polls for it.
    const pre = nsPrefix(netns);
    const cmd = `stty rows 33 cols 77; KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false ${KUBECTL} --kubeconfig ${server.kubeconfig} --cache-dir ${join(dataDir, '.kube-cache')} exec -it app -- sh -c ${shq(WAIT_SIZE)}`;
    const tty = spawnSync(pre[0]!, [...pre.slice(1), 'script', '-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000, stdio: ['pipe', 'pipe', 'pipe'], input: '' });
    t.match(tty.stdout, /size=33 77/, `the terminal size reaches the container (${JSON.stringify(tty.stdout + tty.stderr)})`);
  });

  t.test('attach over SPDY', async (t) => {
    const pre = nsPrefix(netns);
    const out = await new Promise<string>((resolve) => {
      const child = spawn(pre[0]!, [...pre.slice(1), KUBECTL, '--kubeconfig', server.kubeconfig, '--cache-dir', join(dataDir, '.kube-cache'), 'attach', 'app'], {
        stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' },
      });
      let text = '';
      const onData = (d: Buffer) => {
        text += d;
        if ((text.match(/line-\d+\n/g) ?? []).length >= 2) child.kill('SIGKILL');
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (d: Buffer) => (text += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', () => { clearTimeout(timer); resolve(text); });
    });
    t.ok((out.match(/line-\d+\n/g) ?? []).length >= 2, `attach streams the container's output (${JSON.stringify(out.slice(-500))})`);
  });

  t.test('port-forward', async (t) => {
    const pre = nsPrefix(netns);
    const child = spawn(pre[0]!, [...pre.slice(1), KUBECTL, '--kubeconfig', server.kubeconfig, 'port-forward', 'pod/app', '18080:8080'], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => { child.kill('SIGKILL'); });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    await waitFor('port-forward listening', () => /Forwarding from 127\.0\.0\.1:18080/.test(out), 30_000);
    const body = await waitFor('curl through port-forward', () => {
      const r = inNetns(netns, ['curl', '-s', '--max-time', '10', 'http://127.0.0.1:18080/index.html']);
      return r.status === 0 ? r.stdout : '';
    }, 30_000);
    t.equal(body, 'hello-pf\n');
    t.equal(inNetns(netns, ['curl', '-s', '--max-time', '10', 'http://127.0.0.1:18080/index.html']).stdout, 'hello-pf\n', 'a second connection');
  });

  t.test('top', async (t) => {
    const nodes = await waitFor('kubectl top nodes', () => { const r = kubectl(server, ['top', 'nodes']); return r.status === 0 ? r.stdout : ''; }, 60_000);
    t.match(nodes, /stream-e2e\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%/);
    const pods = await waitFor('kubectl top pods', () => { const r = kubectl(server, ['top', 'pods']); return r.status === 0 && /app/.test(r.stdout) ? r.stdout : ''; }, 60_000);
    t.match(pods, /app\s+\d+m\s+\d+Mi/);
    t.equal(kc(server, ['get', '--raw', '/api/v1/nodes/stream-e2e/proxy/healthz']), 'ok', 'nodes/proxy reaches the kubelet');
  });
});
