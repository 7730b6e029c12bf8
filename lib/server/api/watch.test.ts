import t from 'tap';
import { createApiApp } from './app.ts';
import { startApiServer } from './server.ts';
import { createRegistry } from '../registry/index.ts';
import { MemoryStore } from '../../store/memory.ts';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: name } });
const cmRef = { group: '', version: 'v1', resource: 'configmaps' };

/** Reads newline-delimited events from a streaming body until n arrived (bounded by the test's timeout). */
async function events(body: ReadableStream<Uint8Array>, n: number): Promise<Record<string, any>[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const out = [];
  while (out.length < n) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      out.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  }
  await reader.cancel().catch(() => {});
  return out;
}

t.test('watchers of one store event share it, each in its own form (JSON, Table with columns once, metadata)', { timeout: 60_000 }, async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const rv = (await api.client.list(cmRef, { namespace: 'default' })).metadata.resourceVersion;
  const open = (accept: string) => fetch(`${api.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`, { headers: { accept }, signal: ac.signal });
  const [j1, j2, tab, meta] = await Promise.all([open('application/json'), open('application/json'), open(TABLE),
    open('application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io')]);
  t.equal(tab.headers.get('content-type'), TABLE);
  await api.client.create(cmRef, cm('a'), 'default');
  await api.client.create(cmRef, cm('b'), 'default');
  const [e1, e2, et, em] = await Promise.all([events(j1.body!, 2), events(j2.body!, 2), events(tab.body!, 2), events(meta.body!, 2)]);
  t.same(e1.map((e) => [e.type, e.object.metadata.name, e.object.data.k]), [['ADDED', 'a', 'a'], ['ADDED', 'b', 'b']]);
  t.same(e2, e1, 'two JSON watchers receive the same events');
  t.equal(et[0]!.object.kind, 'Table');
  t.ok(et[0]!.object.columnDefinitions.length > 0, 'the first Table event has the columns');
  t.same(et[1]!.object.columnDefinitions, [], 'later ones do not');
  t.equal(et[1]!.object.rows[0].cells[0], 'b');
  t.same(em.map((e) => [e.object.kind, e.object.metadata.name, e.object.data]), [['PartialObjectMetadata', 'a', undefined], ['PartialObjectMetadata', 'b', undefined]]);
});

t.test('without a Node response (app.request) the watch streams through a web ReadableStream', { timeout: 60_000 }, async (t) => {
  const store = new MemoryStore();
  t.teardown(() => store.close());
  const { registry, client } = createRegistry({ store });
  await client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const app = createApiApp({ registry, openapi: false });
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const res = await app.request('/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0', { signal: ac.signal });
  t.equal(res.status, 200);
  await client.create(cmRef, cm('x'), 'default');
  const [e] = await events(res.body!, 1);
  t.equal(e!.type, 'ADDED');
  t.equal(e!.object.metadata.name, 'x');
});
