import t from 'tap';
import { MemoryStore } from '../../store/memory.ts';
import { instrumentStore } from '../../store/instrumented.ts';
import { startApiServer } from './server.ts';

t.test('/metrics reports requests by verb and resource, latency, store latency and open watches', async (t) => {
  const api = await startApiServer({ store: instrumentStore(new MemoryStore()) });
  t.teardown(() => api.close());
  const get = (p: string, init?: RequestInit) => fetch(`${api.url}${p}`, init);
  await get('/api/v1/namespaces/default/configmaps', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm' } }) });
  await get('/api/v1/namespaces/default/configmaps/m');
  await get('/api/v1/namespaces/default/configmaps/nope');
  const ac = new AbortController();
  const w = await get('/api/v1/pods?watch=true', { signal: ac.signal });
  t.equal(w.status, 200);
  let text = await (await get('/metrics')).text();
  t.match(text, /apiserver_request_total\{verb="CREATE",group="",resource="configmaps",code="201"\} 1/);
  t.match(text, /apiserver_request_total\{verb="GET",group="",resource="configmaps",code="404"\} 1/);
  t.match(text, /apiserver_request_duration_seconds_count\{verb="GET",group="",resource="configmaps"\} 2/);
  t.match(text, /tsk_store_operation_duration_seconds_count\{operation="create"\} \d+/);
  t.match(text, /apiserver_registered_watchers\{group="",resource="pods"\} 1/);
  ac.abort();
  await w.body?.cancel().catch(() => {});
  for (let i = 0; i < 50 && /apiserver_registered_watchers\{group="",resource="pods"\} 1/.test(text); i++) {
    await new Promise((r) => setTimeout(r, 100));
    text = await (await get('/metrics')).text();
  }
  t.match(text, /apiserver_registered_watchers\{group="",resource="pods"\} 0/, 'a closed watch leaves the gauge');
});
