import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import t from 'tap';
import { builtinStrategies } from '../resources/index.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { buildDocuments, openApiRoutes } from './index.ts';

const run = promisify(execFile);

// Minimal aggregated discovery so kubectl can map names to kinds.
function discovery(strategies: readonly ResourceStrategy[], core: boolean) {
  const groups = new Map<string, ResourceStrategy[]>();
  for (const s of strategies) if ((s.group === '') === core) groups.set(s.group, [...(groups.get(s.group) ?? []), s]);
  return {
    kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {},
    items: [...groups].map(([g, ss]) => ({
      metadata: { name: g },
      versions: [{ version: 'v1', freshness: 'Current', resources: ss.map((s) => ({ resource: s.plural, responseKind: { group: g, version: 'v1', kind: s.kind }, scope: s.namespaced ? 'Namespaced' : 'Cluster', singularResource: s.singular, shortNames: s.shortNames ?? [], verbs: ['get', 'list', 'patch'] })) }],
    })),
  };
}

t.test('documents', async (t) => {
  const docs = buildDocuments(builtinStrategies);
  const core = docs.find((d) => d.path === 'api/v1')!;
  t.ok(core);
  const body = JSON.parse(core.body);
  const pod = body.components.schemas['io.k8s.api.core.v1.Pod'];
  t.same(pod['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
  const patch = body.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch;
  t.same(patch['x-kubernetes-group-version-kind'], { group: '', kind: 'Pod', version: 'v1' });
  t.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation'));
  const containers = body.components.schemas['io.k8s.api.core.v1.PodSpec'].properties.containers;
  t.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  t.ok(body.components.schemas['io.k8s.api.core.v1.Container'].properties.image);
  const net = JSON.parse(docs.find((d) => d.path === 'apis/networking.k8s.io/v1')!.body);
  t.same(net.components.schemas['io.k8s.api.networking.v1.Ingress']['x-kubernetes-group-version-kind'], [{ group: 'networking.k8s.io', kind: 'Ingress', version: 'v1' }]);
  t.ok(net.components.schemas['io.k8s.api.networking.v1.HTTPIngressPath'].required.includes('pathType'));
  const hpa = (v: string) => JSON.parse(docs.find((d) => d.path === `apis/autoscaling/${v}`)!.body).components.schemas[`io.k8s.api.autoscaling.${v}.HorizontalPodAutoscaler`];
  t.same(hpa('v1')['x-kubernetes-group-version-kind'], [{ group: 'autoscaling', kind: 'HorizontalPodAutoscaler', version: 'v1' }]);
  t.same(hpa('v2')['x-kubernetes-group-version-kind'], [{ group: 'autoscaling', kind: 'HorizontalPodAutoscaler', version: 'v2' }]);
  t.ok(JSON.parse(docs.find((d) => d.path === 'apis/rbac.authorization.k8s.io/v1')!.body).components.schemas['io.k8s.api.rbac.v1.PolicyRule']);
  for (const d of docs) {
    // every $ref resolves inside its own document
    const text = d.body;
    const schemas = JSON.parse(text).components.schemas;
    const missing = [...text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!).filter((n) => !schemas[n]);
    t.same(missing, [], `${d.path}: every $ref resolves`);
  }
});

t.test('kubectl explain against the routes', async (t) => {
  const app = new Hono();
  app.get('/version', (c) => c.json({ major: '1', minor: '32', gitVersion: 'v1.32.4' }));
  const disc = (core: boolean) => (c: any) => c.body(JSON.stringify(discovery(builtinStrategies, core)), 200, { 'Content-Type': 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' });
  app.get('/api', disc(true));
  app.get('/apis', disc(false));
  const seen: string[] = [];
  app.use('*', async (c, next) => { seen.push(`${c.req.method} ${c.req.url} ${c.req.header('if-none-match') ?? ''}`); await next(); });
  app.route('/', openApiRoutes({ all: () => builtinStrategies }));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const port = (server.address() as { port: number }).port;
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tsk-openapi-'));
  t.teardown(() => { server.close(); fs.rmSync(cache, { recursive: true, force: true }); });
  const kubectl = (...args: string[]) => run('/usr/bin/kubectl', ['--server', `http://127.0.0.1:${port}`, '--cache-dir', cache, ...args], { timeout: 60_000 });
  const out = await kubectl('explain', 'pod.spec.containers');
  t.match(out.stdout, /KIND:\s+Pod/);
  t.match(out.stdout, /image\s+<string>/);
  t.match(out.stdout, /livenessProbe\s+<Probe>/);
  const d = await kubectl('explain', 'deployments.spec.strategy');
  t.match(d.stdout, /rollingUpdate\s+<RollingUpdateDeployment>/);
  t.ok(seen.length > 0);
});

t.test('index ETag changes when the catalog changes; If-None-Match gives 304', async (t) => {
  const strategies = [...builtinStrategies];
  let notify = () => {};
  const app = openApiRoutes({ all: () => strategies, onChange: (fn) => { notify = fn; return () => {}; } });
  const r1 = await app.request('/openapi/v3');
  const etag = r1.headers.get('etag')!;
  t.equal((await app.request('/openapi/v3', { headers: { 'If-None-Match': etag } })).status, 304);
  strategies.push({ group: 'example.com', versions: ['v1'], kind: 'Widget', plural: 'widgets', singular: 'widget', namespaced: true });
  notify();
  const r2 = await app.request('/openapi/v3', { headers: { 'If-None-Match': etag } });
  t.equal(r2.status, 200);
  const idx = await r2.json() as { paths: Record<string, { serverRelativeURL: string }> };
  const url = idx.paths['apis/example.com/v1']!.serverRelativeURL;
  const doc = await app.request(url);
  t.equal(doc.status, 200);
  t.match(doc.headers.get('cache-control'), /immutable/);
  t.equal((await app.request('/openapi/v3/apis/nope/v1')).status, 404);
  t.equal((await app.request('/openapi/v2', { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } })).status, 406);
  const v2 = await app.request('/openapi/v2', { headers: { Accept: 'application/json' } });
  t.equal(v2.status, 200);
  t.ok((await v2.json() as { definitions: Record<string, unknown> }).definitions['com.example.v1.Widget']);
});
