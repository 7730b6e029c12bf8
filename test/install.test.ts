// install.sh end to end with a stand-in executable in temp directories (no systemd here).
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, type Teardown } from './harness.ts';

const script = join(import.meta.dirname, '..', 'install.sh');

function setup(t: Teardown) {
  const dir = tempDir(t, 'tsk-install-');
  const bin = join(dir, 'tsk-fake');
  writeFileSync(bin, '#!/bin/sh\necho "tsk version test"\n');
  chmodSync(bin, 0o755);
  const env = { ...process.env, INSTALL_TSK_BINARY: bin, INSTALL_TSK_BIN_DIR: join(dir, 'bin'), INSTALL_TSK_SYSTEMD_DIR: join(dir, 'systemd'), INSTALL_TSK_SKIP_ENABLE: 'true' };
  return { dir, env };
}

t.test('server install writes the executable, helper scripts and a systemd unit', async (t) => {
  const { dir, env } = setup(t);
  execFileSync('sh', [script], { env: { ...env, INSTALL_TSK_EXEC: '--disable servicelb' }, stdio: 'pipe' });
  t.ok(existsSync(join(dir, 'bin/tsk')));
  t.equal(statSync(join(dir, 'bin/tsk')).mode & 0o777, 0o755);
  t.ok(existsSync(join(dir, 'bin/tsk-killall.sh')));
  t.ok(existsSync(join(dir, 'bin/tsk-uninstall.sh')));
  const unit = readFileSync(join(dir, 'systemd/tsk.service'), 'utf8');
  t.match(unit, `ExecStart=${join(dir, 'bin')}/tsk server --disable servicelb`);
  t.match(unit, 'Restart=always');
  t.match(unit, 'Delegate=yes');
  t.match(unit, 'WantedBy=multi-user.target');
});

t.test('agent install needs a URL and token and stores them in the env file', async (t) => {
  const { dir, env } = setup(t);
  const bad = spawnSync('sh', [script], { env: { ...env, TSK_URL: 'https://10.0.0.1:6443' }, encoding: 'utf8' });
  t.not(bad.status, 0);
  t.match(bad.stderr, 'TSK_TOKEN');
  const http = spawnSync('sh', [script], { env: { ...env, TSK_URL: 'http://x:6443', TSK_TOKEN: 'K10abc::server:s' }, encoding: 'utf8' });
  t.match(http.stderr, 'https://');
  execFileSync('sh', [script], { env: { ...env, TSK_URL: 'https://10.0.0.1:6443', TSK_TOKEN: 'K10abc::server:secret' }, stdio: 'pipe' });
  const unit = readFileSync(join(dir, 'systemd/tsk-agent.service'), 'utf8');
  t.match(unit, /ExecStart=\S+\/tsk agent\s*$/m);
  const envFile = join(dir, 'systemd/tsk-agent.service.env');
  t.equal(statSync(envFile).mode & 0o777, 0o600);
  t.match(readFileSync(envFile, 'utf8'), 'TSK_TOKEN=K10abc::server:secret');
  t.match(readFileSync(envFile, 'utf8'), 'TSK_SERVER=https://10.0.0.1:6443');
});

t.test('a binary that does not run is refused', async (t) => {
  const { dir, env } = setup(t);
  writeFileSync(join(dir, 'broken'), 'not an executable');
  const r = spawnSync('sh', [script], { env: { ...env, INSTALL_TSK_BINARY: join(dir, 'broken') }, encoding: 'utf8' });
  t.not(r.status, 0);
  t.match(r.stderr, 'does not run');
  t.notOk(existsSync(join(dir, 'bin/tsk')));
});
