import t from 'tap';
import { containerdConfig, containerdPaths, HOSTPORT_HANDLER, hostPortTwin } from './config.ts';
import { findRuntimes } from './runtime.ts';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startContainerd } from './supervisor.ts';

// ---- config
t.test('containerd config carries the measured settings', async (t) => {
  const paths = containerdPaths('/var/lib/tsk');
  const toml = containerdConfig({ paths, sandboxImage: 'docker.io/tsk/pause:1', cniConfDir: '/var/lib/tsk/agent/etc/cni' });
  t.equal(paths.address, '/var/lib/tsk/agent/containerd/containerd.sock');
  t.match(toml, /^version = 2$/m);
  t.match(toml, /restrict_oom_score_adj = true/);
  t.match(toml, /sandbox_image = "docker.io\/tsk\/pause:1"/);
  t.match(toml, /SystemdCgroup = false/);
  t.match(toml, /bin_dir = "\/usr\/lib\/cni"/);
  t.match(toml, /conf_dir = "\/var\/lib\/tsk\/agent\/etc\/cni"/);
  t.match(toml, /config_path = "\/var\/lib\/tsk\/agent\/containerd\/certs.d"/);
  t.match(toml, /\[metrics\]\n {2}address = ""/);
});

t.test('every runtime handler has a twin with portmap for hostPorts; crun is run by the runc shim', async (t) => {
  const paths = containerdPaths('/var/lib/tsk');
  const o = { runtimes: { crun: '/usr/bin/crun' }, defaultRuntime: 'crun' };
  const toml = containerdConfig({ paths, sandboxImage: 'p', cniConfDir: '/cni', ...o });
  t.match(toml, /default_runtime_name = "crun"/);
  const table = (name: string) => new RegExp(`\\[plugins\\."io\\.containerd\\.grpc\\.v1\\.cri"\\.containerd\\.runtimes\\."${name}"\\]\\n([^\\[]*)\\n\\[[^\\]]*\\.options\\]\\n([^\\[]*)`);
  const crun = table('crun').exec(toml), crunHp = table('crun-tsk-hostport').exec(toml), runc = table('runc').exec(toml), runcHp = table('tsk-hostport').exec(toml);
  t.ok(crun && crunHp && runc && runcHp, 'four handlers');
  t.match(crun![2], /BinaryName = "\/usr\/bin\/crun"/);
  t.match(crunHp![2], /BinaryName = "\/usr\/bin\/crun"/);
  t.notMatch(runc![2], /BinaryName/);
  t.notMatch(crun![1], /cni_conf_dir/);
  t.match(crunHp![1], /cni_conf_dir = "\/cni\/hostport"/);
  t.match(runcHp![1], /cni_conf_dir = "\/cni\/hostport"/);
  t.equal(hostPortTwin('', o), 'crun-tsk-hostport', 'the default handler is crun here');
  t.equal(hostPortTwin('runc', o), HOSTPORT_HANDLER);
  t.equal(hostPortTwin('crun', o), 'crun-tsk-hostport');
  t.equal(hostPortTwin('kata', o), 'kata', 'an unknown handler is left for containerd to refuse');
  t.equal(hostPortTwin('', {}), HOSTPORT_HANDLER);
});

t.test('optional runtimes are found on PATH', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsk-runtimes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'crun'), '#!/bin/sh\n');
  t.same(findRuntimes(dir), { crun: join(dir, 'crun') });
});

// ---- supervisor
// A stand-in "containerd" script: records its start, exits after a while so the supervisor restarts it.
t.test('restarts a dying containerd with backoff and stops it by PID', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsk-supervisor-'));
  const ac = new AbortController();
  t.teardown(() => { ac.abort(); rmSync(dir, { recursive: true, force: true }); });
  const bin = join(dir, 'fake-containerd');
  const starts = join(dir, 'starts');
  writeFileSync(bin, `#!/bin/sh\necho start >> ${starts}\ntrap 'echo term >> ${starts}; exit 0' TERM\nif [ "$(wc -l < ${starts})" -lt 2 ]; then exit 1; fi\nwhile true; do sleep 0.1; done\n`);
  chmodSync(bin, 0o755);
  const cd = startContainerd({ dataDir: dir, signal: ac.signal, binary: bin, sandboxImage: 'p', cniConfDir: join(dir, 'cni'), readyTimeoutMs: 60_000 });
  for (let i = 0; i < 200 && !(existsSync(starts) && readFileSync(starts, 'utf8').split('\n').filter(Boolean).length >= 2 && cd.pid()); i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(readFileSync(starts, 'utf8').split('\n').filter(Boolean).length, 2, 'restarted once after dying');
  t.ok(existsSync(join(dir, 'agent', 'containerd', 'containerd.pid')), 'PID file written');
  t.match(readFileSync(join(dir, 'agent', 'containerd', 'config.toml'), 'utf8'), /restrict_oom_score_adj = true/);
  await cd.stop(5000);
  t.match(readFileSync(starts, 'utf8'), /term/, 'stopped with SIGTERM');
  t.notOk(existsSync(join(dir, 'agent', 'containerd', 'containerd.pid')), 'PID file removed');
});

t.test('a missing binary fails ready at once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsk-supervisor-'));
  const ac = new AbortController();
  t.teardown(() => { ac.abort(); rmSync(dir, { recursive: true, force: true }); });
  const cd = startContainerd({ dataDir: dir, signal: ac.signal, binary: join(dir, 'nope'), sandboxImage: 'p', cniConfDir: join(dir, 'cni') });
  await t.rejects(cd.ready, /containerd not found/);
});
