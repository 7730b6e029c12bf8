import t from 'tap';
import { writeFileSync } from 'node:fs';
import { MemoryStore } from '../../store/memory.ts';
import { disableEncryption, enableEncryption, encryptionConfigFile, encryptionStatus, rotateEncryptionKeys, writeEncryptionConfig } from './config.ts';
import { startLiveEncryption } from './reload.ts';
import { tempDir } from '../../test-fixture.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function until(fn: () => Promise<boolean> | boolean, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

t.test('a running store follows the encryption config: rotate and disable re-encrypt in the background', async (t) => {
  const dataDir = tempDir(t, 'tsk-enc-live-');
  const raw = new MemoryStore();
  t.teardown(() => raw.close());
  enableEncryption(dataDir);
  const k1 = encryptionStatus(dataDir).currentKey!;
  const live = await startLiveEncryption({ dataDir, store: raw, debounceMs: 20, pollMs: 100 });
  t.teardown(() => live.close());
  for (let i = 0; i < 30; i++) await live.store.create(`/registry/secrets/default/s${i}`, enc.encode(`{"n":${i}}`));
  const rawValues = async () => (await raw.list('/registry/secrets/')).items.map((kv) => dec.decode(kv.value));
  t.ok((await rawValues()).every((v) => v.startsWith(`k8s:enc:aescbc:v1:${k1}:`)));

  rotateEncryptionKeys(dataDir);
  const k2 = encryptionStatus(dataDir).currentKey!;
  t.not(k2, k1);
  t.ok(await until(async () => (await rawValues()).every((v) => v.startsWith(`k8s:enc:aescbc:v1:${k2}:`))), 'all values re-encrypted with the new key (watch or poll)');
  await live.idle();
  t.equal(dec.decode((await live.store.get('/registry/secrets/default/s7')).kv!.value), '{"n":7}', 'reads keep working');

  disableEncryption(dataDir);
  t.ok(await until(async () => (await rawValues()).every((v) => v.startsWith('{'))), 'disable rewrites in plaintext');
  await live.idle();
  t.equal(dec.decode((await live.store.get('/registry/secrets/default/s3')).kv!.value), '{"n":3}');
});

t.test('an invalid edit keeps the current keys; poll-only mode picks up changes', async (t) => {
  const dataDir = tempDir(t, 'tsk-enc-live-');
  const raw = new MemoryStore();
  t.teardown(() => raw.close());
  const saved = enableEncryption(dataDir);
  const live = await startLiveEncryption({ dataDir, store: raw, noWatch: true, debounceMs: 10, pollMs: 50 });
  t.teardown(() => live.close());
  await live.store.create('/registry/secrets/default/a', enc.encode('{"a":1}'));
  writeFileSync(encryptionConfigFile(dataDir), '{not json');
  await live.reload();
  t.equal(dec.decode((await live.store.get('/registry/secrets/default/a')).kv!.value), '{"a":1}', 'still readable with the old keys');
  writeEncryptionConfig(dataDir, saved);
  rotateEncryptionKeys(dataDir);
  const k2 = encryptionStatus(dataDir).currentKey!;
  t.ok(await until(async () => dec.decode((await raw.get('/registry/secrets/default/a')).kv!.value).startsWith(`k8s:enc:aescbc:v1:${k2}:`)), 'the poll applied the rotation');
  await live.idle();
  t.equal(dec.decode((await live.store.get('/registry/secrets/default/a')).kv!.value), '{"a":1}');
});
