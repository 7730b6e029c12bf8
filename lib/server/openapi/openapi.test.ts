// kubectl explain against these documents runs in test/kubectl-extensions.test.ts.
import t from 'tap';
import { builtinStrategies } from '../resources/index.ts';
import { buildDocuments, openApiRoutes } from './index.ts';

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
  t.equal(body.components.schemas['io.k8s.api.core.v1.PodSpec'].properties.volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  const apps = JSON.parse(docs.find((d) => d.path === 'apis/apps/v1')!.body);
  t.equal(apps.components.schemas['io.k8s.api.apps.v1.DeploymentSpec'].properties.strategy['x-kubernetes-patch-strategy'], 'retainKeys');
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
  t.equal((await app.request('/openapi/v2', { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } })).status, 200);
  t.equal((await app.request('/openapi/v2', { headers: { Accept: 'application/yaml' } })).status, 406);
  const gz = await app.request(url, { headers: { 'Accept-Encoding': 'gzip, deflate' } });
  t.equal(gz.headers.get('content-encoding'), 'gzip', 'documents go out gzip-compressed when the client accepts it');
  const pb = await app.request('/openapi/v2', { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
  t.equal(pb.headers.get('content-type'), 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'a media type Go can parse');
  const v2 = await app.request('/openapi/v2', { headers: { Accept: 'application/json' } });
  t.equal(v2.status, 200);
  t.ok((await v2.json() as { definitions: Record<string, unknown> }).definitions['com.example.v1.Widget']);
});
