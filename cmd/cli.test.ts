// The command line as a user meets it: flags, TSK_* variables, the config file, and clear errors.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tsk = join(import.meta.dirname, 'tsk.ts');
const dir = mkdtempSync(join(tmpdir(), 'tsk-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const noTsk = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TSK_')));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [tsk, ...args], { encoding: 'utf8', env: { ...noTsk, ...env }, timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

t.test('version and help', async (t) => {
  t.match(run(['version']).out, /kubernetes v1\.32\.4/);
  const help = run(['--help']);
  t.equal(help.code, 0);
  for (const c of ['server', 'agent', 'snapshot', 'token', 'killall']) t.match(help.out, new RegExp(`tsk ${c}`));
  t.match(run(['server', '--help']).out, /--write-kubeconfig-mode/);
});

t.test('unknown flags and bad values exit non-zero with a clear message', async (t) => {
  let r = run(['server', '--bogus']);
  t.equal(r.code, 1);
  t.match(r.err, 'Unknown argument: bogus');
  r = run(['server', '--https-listen-port', '70000']);
  t.equal(r.code, 1);
  t.match(r.err, '--https-listen-port 70000 is not a port number');
  r = run(['server', '--cluster-cidr', '10.42.0.0']);
  t.match(r.err, 'is not an IPv4 CIDR');
  r = run(['agent', '--token', 'x']);
  t.match(r.err, 'tsk agent needs --server');
  r = run(['agent', '--server', 'http://10.0.0.1:6443', '--token', 'x']);
  t.match(r.err, 'must use https://');
  r = run(['nonsense']);
  t.equal(r.code, 1);
  r = run(['server', '--kubelet-arg=max-pods=10']);
  t.equal(r.code, 1);
  t.match(r.err, 'the kubelet flag "max-pods" is not supported by tsk', 'unknown kubelet flags are refused, as the kubelet would');
  r = run(['agent', '--server', 'https://10.0.0.1:6443', '--token', 'x', '--kubelet-arg', 'eviction-hard=memory.available>1Gi']);
  t.equal(r.code, 1);
  t.match(r.err, 'only the < operator is supported');
});

t.test('flags win over TSK_* variables, which win over the config file', async (t) => {
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, 'https-listen-port: 99991\ntoken: only-for-servers\n');
  t.match(run(['server', '--config', cfg]).err, '--https-listen-port 99991');
  t.match(run(['server', '--config', cfg], { TSK_HTTPS_LISTEN_PORT: '99992' }).err, '--https-listen-port 99992');
  t.match(run(['server', '--config', cfg, '--https-listen-port', '99993'], { TSK_HTTPS_LISTEN_PORT: '99992' }).err, '--https-listen-port 99993');
  t.equal(run(['version', '--config', cfg]).code, 0, "a server key in the file does not break other commands");
  t.equal(run(['version'], { TSK_SOMETHING_ELSE: '1' }).code, 0, 'TSK_* variables that are not flags are ignored');
});

t.test('config file errors', async (t) => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'a: [1, 2\n');
  let r = run(['version', '--config', bad]);
  t.equal(r.code, 1);
  t.match(r.err, 'is not valid YAML');
  writeFileSync(bad, '- a\n- b\n');
  t.match(run(['version', '--config', bad]).err, 'must be a YAML mapping');
  r = run(['version', '--config', join(dir, 'missing.yaml')]);
  t.equal(r.code, 1);
  t.match(r.err, 'does not exist');
});
