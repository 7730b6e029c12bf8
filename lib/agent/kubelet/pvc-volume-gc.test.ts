import t from 'tap';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClient } from '../../client/fake.ts';
import { core } from '../../client/types.ts';
import { gcVolumeDirs, runVolumeDirGc, storageDirOf } from './pvc-volume-gc.ts';
import { tempDir } from '../../test-fixture.ts';

t.test('removes only the directories of deleted volumes', async (t) => {
  const dir = tempDir(t, 'tsk-pvgc-');
  const client = new FakeClient();
  client.seed(core('persistentvolumes'), { metadata: { name: 'pvc-aaa' }, spec: { hostPath: { path: join(dir, 'pvc-aaa_default_a') } } });
  for (const d of ['pvc-aaa_default_a', 'pvc-bbb_default_b', 'not-a-volume', 'pvc-ccc']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'pvc-bbb_default_b', 'data'), 'x');
  writeFileSync(join(dir, 'pvc-ddd_default_file'), 'a file, not a volume directory');
  t.same(await gcVolumeDirs(client, dir), ['pvc-bbb_default_b']);
  t.ok(existsSync(join(dir, 'pvc-aaa_default_a')), 'live volume kept');
  t.notOk(existsSync(join(dir, 'pvc-bbb_default_b')), 'deleted volume removed');
  t.ok(existsSync(join(dir, 'not-a-volume')) && existsSync(join(dir, 'pvc-ccc')) && existsSync(join(dir, 'pvc-ddd_default_file')), 'others untouched');
  t.same(await gcVolumeDirs(client, join(dir, 'missing')), [], 'no storage dir: nothing to do');
  t.equal(storageDirOf('/var/lib/tsk'), '/var/lib/tsk/storage');
});

t.test('lookup errors other than 404 keep the directory; the loop stops on abort', async (t) => {
  const dir = tempDir(t, 'tsk-pvgc-');
  mkdirSync(join(dir, 'pvc-eee_ns_n'));
  const failing = { get: async () => { throw new Error('connection refused'); } };
  t.same(await gcVolumeDirs(failing, dir), []);
  t.ok(existsSync(join(dir, 'pvc-eee_ns_n')));
  const ac = new AbortController();
  const done = runVolumeDirGc({ client: new FakeClient(), storageDir: dir, signal: ac.signal, intervalMs: 10 });
  for (let i = 0; i < 500 && existsSync(join(dir, 'pvc-eee_ns_n')); i++) await new Promise((r) => setTimeout(r, 10));
  t.notOk(existsSync(join(dir, 'pvc-eee_ns_n')), 'swept by the loop');
  ac.abort();
  await done;
});
