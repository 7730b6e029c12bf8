import t from 'tap';
import { statSync } from 'node:fs';
import { MemoryStore } from '../../store/memory.ts';
import { disableEncryption, enableEncryption, encryptionConfigFile, encryptionStatus, readEncryptionConfig, rotateEncryptionKeys } from './config.ts';
import { encryptingStore, reencrypt } from './encrypting-store.ts';
import { transformerFor } from './transformer.ts';
import { tempDir } from '../../test-fixture.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

t.test('secrets are encrypted at rest, rotate and disable re-encrypt', async (t) => {
  const dataDir = tempDir(t, 'tsk-enc-');
  const raw = new MemoryStore();
  t.teardown(() => raw.close());
  t.same(encryptionStatus(dataDir), { enabled: false, provider: 'identity', keys: [] });
  await raw.create('/registry/secrets/default/old', enc.encode('{"plain":1}'));

  enableEncryption(dataDir);
  t.equal(statSync(encryptionConfigFile(dataDir)).mode & 0o777, 0o600);
  const st = encryptionStatus(dataDir);
  t.equal(st.enabled, true);
  t.equal(st.provider, 'aescbc');
  let tr = transformerFor(readEncryptionConfig(dataDir));
  let store = encryptingStore(raw, tr);
  t.equal(dec.decode((await store.get('/registry/secrets/default/old')).kv!.value), '{"plain":1}', 'old plaintext still readable');
  const w = store.watch('/registry/secrets/', 0);
  await store.create('/registry/secrets/default/s1', enc.encode('{"data":"hunter2"}'));
  await store.create('/registry/configmaps/default/c1', enc.encode('{"x":1}'));
  const rawS1 = dec.decode((await raw.get('/registry/secrets/default/s1')).kv!.value);
  t.match(rawS1, /^k8s:enc:aescbc:v1:aescbckey-\d+:/);
  t.notMatch(rawS1, /hunter2/);
  t.equal(dec.decode((await raw.get('/registry/configmaps/default/c1')).kv!.value), '{"x":1}', 'other resources untouched');
  t.equal(dec.decode((await store.get('/registry/secrets/default/s1')).kv!.value), '{"data":"hunter2"}');
  t.same((await store.list('/registry/secrets/')).items.map((kv) => dec.decode(kv.value)), ['{"plain":1}', '{"data":"hunter2"}']);
  for await (const m of w) {
    if ('events' in m) {
      t.equal(dec.decode(m.events[0]!.kv.value), '{"data":"hunter2"}', 'watch decrypts');
      break;
    }
  }
  w.close();
  const s1 = (await store.get('/registry/secrets/default/s1')).kv!;
  const conflict = await store.update('/registry/secrets/default/s1', enc.encode('x'), s1.modRevision - 1).then(() => undefined, (e: { current?: { value: Uint8Array } }) => e);
  t.equal(dec.decode(conflict!.current!.value), '{"data":"hunter2"}', 'conflict carries the decrypted current value');

  t.equal(await reencrypt(raw, tr), 1, 'the plaintext secret gets encrypted');
  t.match(dec.decode((await raw.get('/registry/secrets/default/old')).kv!.value), /^k8s:enc:aescbc/);

  const before = encryptionStatus(dataDir).currentKey;
  rotateEncryptionKeys(dataDir);
  const after = encryptionStatus(dataDir);
  t.not(after.currentKey, before);
  t.equal(after.keys.length, 2);
  tr = transformerFor(readEncryptionConfig(dataDir));
  store = encryptingStore(raw, tr);
  t.equal(await reencrypt(raw, tr), 2);
  t.match(dec.decode((await raw.get('/registry/secrets/default/s1')).kv!.value), new RegExp(`^k8s:enc:aescbc:v1:${after.currentKey}:`));
  t.equal(dec.decode((await store.get('/registry/secrets/default/s1')).kv!.value), '{"data":"hunter2"}');

  disableEncryption(dataDir);
  tr = transformerFor(readEncryptionConfig(dataDir));
  t.equal(encryptionStatus(dataDir).enabled, false);
  t.equal(await reencrypt(raw, tr), 2);
  t.equal(dec.decode((await raw.get('/registry/secrets/default/s1')).kv!.value), '{"data":"hunter2"}');

  const gcm = transformerFor({ kind: 'EncryptionConfiguration', apiVersion: 'apiserver.config.k8s.io/v1', resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: [{ name: 'k1', secret: Buffer.alloc(32, 7).toString('base64') }] } }] }] });
  const sealed = gcm.toStorage(enc.encode('v'), '/registry/secrets/a/b');
  t.equal(dec.decode(gcm.fromStorage(sealed, '/registry/secrets/a/b')), 'v');
  t.throws(() => gcm.fromStorage(sealed, '/registry/secrets/a/other'), 'GCM binds the value to its key');
  t.throws(() => gcm.fromStorage(enc.encode('plain'), '/registry/secrets/a/b'), /no identity provider/);
});
