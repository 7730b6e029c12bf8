// The API server over HTTP without kubectl: status codes and reasons, negotiation, discovery, watch framing,
// malformed requests, subresources.
import t from 'tap';
import type { KubeObject } from '../lib/client/types.ts';
import { startApiServer } from '../lib/server/api/server.ts';
import { encodeProtobufObject } from '../lib/server/protobuf/index.ts';

const server = await startApiServer({ bookmarkIntervalMs: 200 });
t.teardown(() => server.close());
const u = (p: string) => server.url + p;
const json = (body: unknown, method = 'POST', type = 'application/json') => ({ method, headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
async function call(p: string, init?: RequestInit): Promise<{ status: number; body: any; type: string | null }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await fetch(u(p), init);
  const text = await r.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* text */ }
  return { status: r.status, body, type: r.headers.get('content-type') };
}

t.test('malformed requests get a Status, never a crash', async (t) => {
  let r = await call('/api/v1/namespaces', json('{not json'));
  t.match(r, { status: 400, body: { kind: 'Status', reason: 'BadRequest', code: 400 } });
  r = await call('/api/v1/namespaces', json('x', 'POST', 'text/plain'));
  t.match(r, { status: 415, body: { reason: 'UnsupportedMediaType' } });
  r = await call('/api/v1/namespaces', json('[1,2]'));
  t.equal(r.status, 400);
  r = await call('/api/v1/namespaces/default', { method: 'OPTIONS' });
  t.equal(r.status, 405);
  r = await call('/api/v1/namespaces/default/pods', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.match(r, { status: 405, body: { reason: 'MethodNotAllowed' } });
  r = await call('/api/v1/pods?labelSelector=a%20in%20(');
  t.match(r, { status: 400, body: { reason: 'BadRequest' } });
  r = await call('/api/v1/pods?fieldSelector=spec.bogus%3D1');
  t.match(r, { status: 400, body: { message: /field label not supported/ } });
  r = await call('/api/v1/pods?limit=abc');
  t.equal(r.status, 400);
  r = await call('/api/v1/pods?limit=1&continue=garbage');
  t.equal(r.status, 400);
  r = await call('/api/v1/nosuchthing');
  t.match(r, { status: 404, body: { reason: 'NotFound' } });
  r = await call('/apis/nosuch.group/v1/things');
  t.equal(r.status, 404);
  r = await call('/api/v1/namespaces/default/configmaps', json({ metadata: { name: 'x', namespace: 'other' } }));
  t.match(r, { status: 400, body: { message: /does not match the namespace/ } });
  r = await call('/api/v1/namespaces/default/configmaps/x', json({ kind: 'Secret', metadata: { name: 'x' } }, 'PUT'));
  t.equal(r.status, 400);
  r = await call('/api/v1/namespaces/default/configmaps/x', json({ a: 1 }, 'PATCH', 'application/foo+json'));
  t.equal(r.status, 415);
  r = await call('/api/v1/namespaces/default/configmaps/a%2Fb');
  t.equal(r.status, 400);
  r = await call('/api/v1/namespaces/default/configmaps', json({ metadata: { name: 'huge' }, data: { a: 'x'.repeat(4 * 1024 * 1024) } }));
  t.equal(r.status, 413);
  r = await call('/api/v1/namespaces/default/configmaps?dryRun=Some', json({ metadata: { name: 'd' } }));
  t.equal(r.status, 400);
  r = await call('/api/v1/namespaces/default/configmaps', { method: 'POST', headers: { 'content-type': 'application/vnd.kubernetes.protobuf' }, body: 'garbage' });
  t.equal(r.status, 400);
  t.equal((await call('/version')).body.minor, '32', 'still serving');
});

t.test('pods/ephemeralcontainers: added with a patch, never changed or removed, checked as upstream', async (t) => {
  await call('/api/v1/namespaces', json({ metadata: { name: 'eph' } }));
  const base = '/api/v1/namespaces/eph/pods';
  let r = await call(base, json({ metadata: { name: 'bad' }, spec: { containers: [{ name: 'c', image: 'x' }], ephemeralContainers: [{ name: 'd', image: 'x' }] } }));
  t.match(r, { status: 422, body: { message: /spec.ephemeralContainers: Forbidden: cannot be set on create/ } });
  await call(base, json({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } }));
  // As kubectl debug sends it (a two-way merge patch of the pod): the new container, and the order of all of them.
  const patch = (order: string[], containers: unknown[]) => call(`${base}/p/ephemeralcontainers`, json({
    spec: { '$setElementOrder/ephemeralContainers': order.map((name) => ({ name })), ephemeralContainers: containers },
  }, 'PATCH', 'application/strategic-merge-patch+json'));
  r = await patch(['debugger'], [{ name: 'debugger', image: 'busybox', targetContainerName: 'c', stdin: true, tty: true }]);
  t.equal(r.status, 200);
  t.match(r.body.spec.ephemeralContainers, [{ name: 'debugger', image: 'busybox', targetContainerName: 'c', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' }]);
  t.equal((await call(`${base}/p/ephemeralcontainers`)).body.spec.ephemeralContainers[0].name, 'debugger', 'GET of the subresource');
  r = await patch(['debugger', 'second'], [{ name: 'second', image: 'busybox', ports: [{ containerPort: 80 }], targetContainerName: 'nope' }]);
  t.equal(r.status, 422);
  t.match(r.body.message, /spec.ephemeralContainers\[1\].ports: Forbidden: cannot be set for an Ephemeral Container/);
  t.match(r.body.message, /spec.ephemeralContainers\[1\].targetContainerName: Not found: "nope"/);
  r = await patch(['debugger', 'c'], [{ name: 'c', image: 'busybox' }]);
  t.match(r, { status: 422, body: { message: /Duplicate value: "c"/ } });
  const pod = (await call(`${base}/p`)).body;
  r = await call(`${base}/p/ephemeralcontainers`, json({ ...pod, spec: { ...pod.spec, ephemeralContainers: [] } }, 'PUT'));
  t.match(r, { status: 422, body: { message: /existing ephemeral containers "debugger" may not be removed/ } });
  pod.spec.ephemeralContainers[0].image = 'other';
  r = await call(`${base}/p/ephemeralcontainers`, json(pod, 'PUT'));
  t.match(r, { status: 422, body: { message: /existing ephemeral containers "debugger" may not be changed/ } });
  pod.spec.ephemeralContainers[0].image = 'busybox';
  pod.spec.ephemeralContainers.push({ name: 'third', image: 'busybox' });
  pod.spec.containers[0].image = 'changed-through-the-subresource';
  r = await call(`${base}/p/ephemeralcontainers`, json(pod, 'PUT'));
  t.equal(r.status, 200);
  t.same(r.body.spec.ephemeralContainers.map((c: { name: string }) => c.name), ['debugger', 'third']);
  t.equal(r.body.spec.containers[0].image, 'x', 'only ephemeralContainers is taken from the request');
  r = await call(`${base}/p`, json({ ...r.body, spec: { ...r.body.spec, ephemeralContainers: [] } }, 'PUT'));
  t.equal(r.status, 422, 'a plain update cannot change them either');
});

t.test('create, conflict, dryRun, status isolation, delete preconditions', async (t) => {
  const pb = encodeProtobufObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pb', namespace: 'default' }, data: { k: 'v' } });
  let r = await call('/api/v1/namespaces/default/configmaps', { method: 'POST', headers: { 'content-type': 'application/vnd.kubernetes.protobuf', accept: 'application/vnd.kubernetes.protobuf, application/json' }, body: pb });
  t.match(r, { status: 201, type: 'application/json', body: { data: { k: 'v' } } });
  r = await call('/api/v1/namespaces/default/configmaps?dryRun=All', json({ metadata: { name: 'dry' } }));
  t.equal(r.status, 201);
  t.equal((await call('/api/v1/namespaces/default/configmaps/dry')).status, 404);
  const ns = await call('/api/v1/namespaces', json({ metadata: { name: 'h' } }));
  t.equal(ns.body.status.phase, 'Active');
  const pod = (await call('/api/v1/namespaces/h/pods', json({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } }))).body;
  r = await call('/api/v1/namespaces/h/pods/p/status', json({ ...pod, status: { phase: 'Running' }, spec: { ...pod.spec, nodeName: 'zz' } }, 'PUT'));
  t.equal(r.body.status.phase, 'Running');
  t.notOk(r.body.spec.nodeName);
  r = await call('/api/v1/namespaces/h/pods/p', json(pod, 'PUT'));
  t.match(r, { status: 409, body: { reason: 'Conflict', message: /Operation cannot be fulfilled on pods "p"/ } });
  r = await call('/api/v1/namespaces/h/pods/p/status', json({ status: { phase: 'Failed' } }, 'PATCH', 'application/merge-patch+json'));
  t.equal(r.body.status.phase, 'Failed');
  r = await call('/api/v1/namespaces/h/pods/p', json({ preconditions: { uid: 'other' } }, 'DELETE'));
  t.equal(r.status, 409);
  r = await call('/api/v1/namespaces/h/pods/p', { method: 'DELETE' });
  t.equal(r.status, 200);
});

t.test('negotiation: Table, PartialObjectMetadata, includeObject', async (t) => {
  const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
  let r = await call('/api/v1/namespaces', { headers: { accept } });
  t.equal(r.type, 'application/json;as=Table;v=v1;g=meta.k8s.io');
  t.match(r.body, { kind: 'Table', apiVersion: 'meta.k8s.io/v1', columnDefinitions: [{ name: 'Name' }, { name: 'Status' }, { name: 'Age' }] });
  t.match(r.body.rows[0], { cells: ['default', 'Active', /\d+s/], object: { kind: 'PartialObjectMetadata', metadata: { name: 'default' } } });
  r = await call('/api/v1/namespaces?includeObject=Object', { headers: { accept } });
  t.equal(r.body.rows[0].object.kind, 'Namespace');
  r = await call('/api/v1/namespaces/default', { headers: { accept: 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io' } });
  t.match(r.body, { kind: 'PartialObjectMetadata', metadata: { name: 'default' } });
  t.notOk(r.body.spec);
  r = await call('/api/v1/namespaces', { headers: { accept: 'application/vnd.kubernetes.protobuf' } });
  t.equal(r.status, 406);
});

t.test('discovery', async (t) => {
  const agg = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
  let r = await call('/api', { headers: { accept: agg } });
  t.equal(r.type, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
  const core = r.body.items[0].versions[0];
  const pods = core.resources.find((x: { resource: string }) => x.resource === 'pods');
  t.match(pods, { scope: 'Namespaced', singularResource: 'pod', shortNames: ['po'], categories: ['all'], responseKind: { kind: 'Pod', version: 'v1' } });
  t.ok(pods.subresources.some((s: { subresource: string }) => s.subresource === 'status'));
  r = await call('/apis', { headers: { accept: agg } });
  t.ok(r.body.items.length > 0);
  r = await call('/api');
  t.match(r.body, { kind: 'APIVersions', versions: ['v1'] });
  r = await call('/api/v1');
  t.ok(r.body.resources.some((x: { name: string }) => x.name === 'pods/binding'));
  t.match(r.body.resources.find((x: { name: string }) => x.name === 'namespaces'), { namespaced: false, shortNames: ['ns'] });
  r = await call('/apis');
  t.equal(r.body.kind, 'APIGroupList');
  t.match((await call('/version')).body, { major: '1', minor: '32', gitVersion: /^v1\.32\./ });
  t.equal((await call('/healthz')).body, 'ok');
  t.match((await call('/readyz?verbose')).body, /\[\+\]ping ok[\s\S]*readyz check passed/);
});

t.test('watch framing, bookmarks, 410, timeoutSeconds', async (t) => {
  const rv = (await call('/api/v1/namespaces/default/configmaps')).body.metadata.resourceVersion;
  const ac = new AbortController();
  const res = await fetch(u(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`), { signal: ac.signal });
  t.equal(res.headers.get('content-type'), 'application/json');
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const next = async () => {
    for (;;) {
      const i = buf.indexOf('\n');
      if (i >= 0) { const line = buf.slice(0, i); buf = buf.slice(i + 1); return JSON.parse(line); }
      const { value, done } = await reader.read();
      if (done) return undefined;
      buf += dec.decode(value);
    }
  };
  await call('/api/v1/namespaces/default/configmaps', json({ metadata: { name: 'w1' } }));
  t.match(await next(), { type: 'ADDED', object: { metadata: { name: 'w1' } } });
  let e = await next();
  while (e.type !== 'BOOKMARK') e = await next();
  t.match(e, { type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion: /^\d+$/ } } });
  ac.abort();
  await server.store.compact(server.store.currentRevision());
  const gone = await call('/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1');
  t.match(gone.body, { type: 'ERROR', object: { kind: 'Status', code: 410 } });
  const timed = await call('/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1');
  t.equal(timed.status, 200, 'watch ends after timeoutSeconds');
  const w2 = await call(`/api/v1/namespaces/default/configmaps?watch=1&fieldSelector=metadata.name%3Dw1&timeoutSeconds=1`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
  const first = typeof w2.body === 'string' ? JSON.parse(w2.body.split('\n')[0]!) : w2.body;
  t.match(first, { type: 'ADDED', object: { kind: 'Table', rows: [{ cells: ['w1', 0, /s$/] }] } });
});

t.test('eviction respects PodDisruptionBudgets', async (t) => {
  const { client } = server;
  await client.create({ group: '', version: 'v1', resource: 'pods' }, { metadata: { name: 'e1', labels: { app: 'e' } }, spec: { containers: [{ name: 'c', image: 'x' }] } }, 'default');
  const pdbs = server.registry.catalog.lookup('policy', 'v1', 'poddisruptionbudgets');
  if (!pdbs) { t.pass('policy/v1 not served'); return; }
  const pdb = await client.create<KubeObject>({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' }, { metadata: { name: 'b' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'e' } } } }, 'default');
  await client.update({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' }, { ...pdb, status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1, observedGeneration: pdb.metadata.generation } }, 'status');
  const r = await call('/api/v1/namespaces/default/pods/e1/eviction', json({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'e1', namespace: 'default' } }));
  t.match(r, { status: 429, body: { reason: 'TooManyRequests' } });
  t.equal((await call('/api/v1/namespaces/default/pods/e1')).status, 200);
});

t.test('structurally wrong bodies for every resource answer 4xx', async (t) => {
  const bodies: unknown[] = [
    { metadata: { name: 5 } }, { metadata: { name: 'x', labels: { a: 5 } } }, { metadata: { name: 'x' }, spec: 'str' },
    { metadata: { name: 'x' }, spec: { containers: [null], ports: 'x', template: 'x', selector: 5 } },
    { metadata: { name: 'x' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'i', ports: 'x', env: 'x' }] } } } },
    { metadata: { name: 'x', finalizers: 'x' } }, { metadata: { name: 'x' }, data: 'x', rules: [null], subjects: [null], roleRef: null },
  ];
  const failures: string[] = [];
  for (const st of server.registry.catalog.all()) {
    const base = st.group ? `/apis/${st.group}/${st.versions[0]}` : `/api/${st.versions[0]}`;
    const path = st.namespaced ? `${base}/namespaces/default/${st.plural}` : `${base}/${st.plural}`;
    for (const b of bodies) {
      const calls = [['POST', path, 'application/json']];
      if (b === bodies[2] || b === bodies[3]) calls.push(['PATCH', `${path}/x`, 'application/merge-patch+json']);
      for (const [method, p, type] of calls) {
        const r = await server.app.fetch(new Request(u(p!), { method, headers: { 'content-type': type! }, body: JSON.stringify(b) }));
        await r.arrayBuffer();
        if (r.status >= 500) failures.push(`${method} ${st.plural} ${JSON.stringify(b)} → ${r.status}`);
      }
    }
  }
  t.same(failures, []);
});
