// `tsk secrets-encrypt rotate-keys|disable` on a running server: it reloads the keys and re-encrypts every stored
// Secret in the background, with no restart; reads keep working throughout.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openSqlite } from '../lib/store/sqlite-driver.ts';
import { kc, root, startServer, waitFor } from './harness.ts';

const node = existsSync(join(root, 'node_modules/node/bin/node')) ? join(root, 'node_modules/node/bin/node') : process.execPath;

function secretsEncrypt(dataDir: string, action: string): string {
  const r = spawnSync(node, [join(root, 'cmd/tsk.ts'), 'secrets-encrypt', action, '--data-dir', dataDir], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`secrets-encrypt ${action} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** The current value of every live Secret, straight from the SQLite file. */
function storedSecrets(dataDir: string): { key: string; value: string }[] {
  const db = openSqlite(join(dataDir, 'server/db/state.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare<{ key: string; value: Uint8Array }>(
      "SELECT kv.key AS key, kv.value AS value FROM latest JOIN kv ON kv.rev = latest.rev WHERE latest.deleted = 0 AND latest.key >= '/registry/secrets/' AND latest.key < '/registry/secrets0'",
    ).all();
    return rows.map((r) => ({ key: r.key, value: Buffer.from(r.value).toString('latin1') }));
  } finally {
    db.close();
  }
}

t.test('rotate-keys and disable take effect on a running server', async (t) => {
  const server = await startServer(t, { disableAgent: true, keepPods: true, args: ['--secrets-encryption'] });
  const { dataDir } = server;
  const names = Array.from({ length: 5 }, (_, i) => `rot-${i}`);
  for (const n of names) kc(server, ['create', 'secret', 'generic', n, `--from-literal=password=needle-${n}`]);
  const readBack = (n: string) => Buffer.from(kc(server, ['get', 'secret', n, '-o', 'jsonpath={.data.password}']), 'base64').toString();
  await waitFor('secrets stored with aesgcm', () => {
    const s = storedSecrets(dataDir);
    return s.length >= names.length && s.every((r) => r.value.startsWith('k8s:enc:aesgcm:v1:'));
  });

  const out = secretsEncrypt(dataDir, 'rotate-keys');
  t.match(out, /running server/, 'the CLI says a running server applies it');
  const key = /Current Key: (\S+)/.exec(out)?.[1];
  t.ok(key, 'a new current key');
  await waitFor(`every stored secret uses ${key}`, () => storedSecrets(dataDir).every((r) => r.value.startsWith(`k8s:enc:aesgcm:v1:${key}:`)), 60_000);
  for (const n of names) t.equal(readBack(n), `needle-${n}`, `${n} reads back after rotation`);
  kc(server, ['create', 'secret', 'generic', 'after-rotate', '--from-literal=password=needle-after']);
  t.equal(readBack('after-rotate'), 'needle-after');

  secretsEncrypt(dataDir, 'disable');
  await waitFor('every stored secret in plaintext', () => storedSecrets(dataDir).every((r) => !r.value.startsWith('k8s:enc:')), 60_000);
  for (const n of [...names, 'after-rotate']) t.match(readBack(n), /^needle-/, `${n} reads back after disable`);
  t.equal(server.child.exitCode, null, 'the server kept running');
});
