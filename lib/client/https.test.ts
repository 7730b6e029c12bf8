import t from 'tap';
import { startApiServer } from '../server/api/server.ts';
import { HttpsClient } from './https.ts';
import { ApiError, core, isNotFound, type KubeObject } from './types.ts';

t.test('HTTP(S) client against the real API server: CRUD, patch, watch, errors', async (t) => {
  const api = await startApiServer({ port: 0 });
  t.teardown(() => api.close());
  const c = new HttpsClient({ server: api.url });
  t.teardown(() => c.close());
  const w = await c.watch(core('configmaps'), { namespace: 'default' });
  const created = await c.create<KubeObject>(core('configmaps'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' }, data: { k: 'v' } });
  t.ok(created.metadata.uid);
  const patched = await c.patch(core('configmaps'), 'a', 'merge', { data: { k: 'w' } }, { namespace: 'default' });
  t.equal(patched.data.k, 'w');
  t.equal((await c.list(core('configmaps'), { namespace: 'default' })).items.filter((i) => i.metadata.name === 'a').length, 1);
  const err = await c.create(core('configmaps'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } }).catch((e) => e);
  t.ok(err instanceof ApiError);
  t.equal(err.code, 409);
  t.equal(err.reason, 'AlreadyExists');
  await c.delete(core('configmaps'), 'a', 'default');
  t.ok(isNotFound(await c.get(core('configmaps'), 'a', 'default').catch((e) => e)));
  const types: string[] = [];
  for await (const e of w) {
    if (e.object.metadata.name !== 'a') continue;
    types.push(e.type);
    if (types.length === 3) break;
  }
  t.same(types, ['ADDED', 'MODIFIED', 'DELETED']);
});
