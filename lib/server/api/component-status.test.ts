import t from 'tap';
import { Hono } from 'hono';
import type { Env } from './app.ts';
import { componentStatusRoutes } from './component-status.ts';
import { statusResponse } from './status.ts';
import { TABLE_CONTENT_TYPE } from './negotiate.ts';

t.test('componentstatuses: list and get as JSON or Table, with the deprecation warning', async (t) => {
  const app = new Hono<Env>();
  app.onError((e) => statusResponse(e));
  componentStatusRoutes({ scheduler: () => true, 'controller-manager': () => { throw new Error('controllers are starting'); }, 'etcd-0': async () => true })(app);
  const list = await app.request('/api/v1/componentstatuses');
  t.equal(list.headers.get('warning'), '299 - "v1 ComponentStatus is deprecated in v1.19+"');
  t.match(await list.json(), {
    kind: 'ComponentStatusList',
    items: [
      { metadata: { name: 'scheduler' }, conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }] },
      { metadata: { name: 'controller-manager' }, conditions: [{ type: 'Healthy', status: 'False', error: 'controllers are starting' }] },
      { metadata: { name: 'etcd-0' }, conditions: [{ type: 'Healthy', status: 'True', message: '{"health":"true","reason":""}' }] },
    ],
  });
  const table = await app.request('/api/v1/componentstatuses', { headers: { accept: `${TABLE_CONTENT_TYPE},application/json` } });
  t.same(((await table.json()) as { rows: { cells: unknown[] }[] }).rows.map((r) => r.cells), [
    ['scheduler', 'Healthy', 'ok', ''], ['controller-manager', 'Unhealthy', '', 'controllers are starting'], ['etcd-0', 'Healthy', '{"health":"true","reason":""}', ''],
  ]);
  t.match(await (await app.request('/api/v1/componentstatuses/scheduler')).json(), { kind: 'ComponentStatus', metadata: { name: 'scheduler' } });
  const missing = await app.request('/api/v1/componentstatuses/nope');
  t.equal(missing.status, 404);
});
