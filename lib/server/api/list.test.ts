import t from 'tap';
import { startApiServer } from './server.ts';

const cmRef = { group: '', version: 'v1', resource: 'configmaps' };
const cm = (name: string, v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { n: name } }, data: { v } });

t.test('JSON LISTs from serialized objects: same answer as the objects, fresh after writes, paged', { timeout: 60_000 }, async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  for (let i = 0; i < 5; i++) await api.client.create(cmRef, cm(`c${i}`, `v${i}`), 'default');
  const get = async (q = '') => {
    const res = await fetch(`${api.url}/api/v1/namespaces/default/configmaps${q}`);
    t.equal(res.headers.get('content-type'), 'application/json');
    return res.json() as Promise<{ kind: string; apiVersion: string; metadata: { resourceVersion: string; continue?: string }; items: { metadata: { name: string; resourceVersion: string }; data: { v: string } }[] }>;
  };
  const objects = await api.client.list(cmRef, { namespace: 'default' });
  const first = await get();
  t.same(first, JSON.parse(JSON.stringify(objects)), 'the same body as serializing the objects');
  t.same(await get(), first, 'a second LIST (from the cache) answers the same');

  const c2 = await api.client.get<{ apiVersion: string; kind: string; metadata: { name: string; resourceVersion?: string }; data: { v: string } }>(cmRef, 'c2', 'default');
  c2.data.v = 'changed';
  const updated = await api.client.update(cmRef, c2);
  const after = await get();
  const item = after.items.find((i) => i.metadata.name === 'c2')!;
  t.equal(item.data.v, 'changed', 'an updated object is served fresh');
  t.equal(item.metadata.resourceVersion, updated.metadata.resourceVersion);

  const names: string[] = [];
  let page = await get('?limit=2');
  for (let i = 0; i < 10; i++) {
    names.push(...page.items.map((x) => x.metadata.name));
    if (!page.metadata.continue) break;
    page = await get(`?limit=2&continue=${encodeURIComponent(page.metadata.continue)}`);
  }
  t.same(names, ['c0', 'c1', 'c2', 'c3', 'c4'], 'limit/continue pages through every object once');
  const sel = await get('?labelSelector=n%3Dc3');
  t.same(sel.items.map((x) => x.metadata.name), ['c3'], 'selectors still filter');
  const table = await fetch(`${api.url}/api/v1/namespaces/default/configmaps`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
  t.equal(((await table.json()) as { kind: string }).kind, 'Table', 'Tables are still built from objects');
});

t.test('a resource served from another resource\'s storage is converted, not taken from the serialized objects', { timeout: 60_000 }, async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  await api.client.create({ group: '', version: 'v1', resource: 'events' }, {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Started', message: 'hello', type: 'Normal',
  });
  const core = (await (await fetch(`${api.url}/api/v1/namespaces/default/events`)).json()) as { items: { apiVersion?: string; message?: string }[] };
  t.equal(core.items[0]!.message, 'hello');
  const v1 = (await (await fetch(`${api.url}/apis/events.k8s.io/v1/namespaces/default/events`)).json()) as { kind: string; items: { note?: string; message?: string }[] };
  t.equal(v1.kind, 'EventList');
  t.equal(v1.items[0]!.note, 'hello', 'events.k8s.io/v1 form');
  t.notOk(v1.items[0]!.message);
});
