import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { FakeClient } from '../../client/fake.ts';
import { ApiError, core } from '../../client/types.ts';
import type { Env } from '../api/app.ts';
import { statusResponse } from '../api/status.ts';
import { podProxyTarget, podServiceProxyRoutes, serviceProxyTarget, splitSchemeNamePort } from './proxy.ts';

const err = (fn: () => unknown) => { try { fn(); return ''; } catch (e) { return e instanceof ApiError ? `${e.code} ${e.reason} ${e.message}` : String(e); } };

t.test('splitSchemeNamePort as utilnet', async (t) => {
  t.same(splitSchemeNamePort('web'), { scheme: 'http', name: 'web', port: '' });
  t.same(splitSchemeNamePort('web:80'), { scheme: 'http', name: 'web', port: '80' });
  t.same(splitSchemeNamePort('https:web:metrics'), { scheme: 'https', name: 'web', port: 'metrics' });
  t.same(splitSchemeNamePort('web:'), { scheme: 'http', name: 'web', port: '' });
  t.equal(splitSchemeNamePort('ftp:web:21'), undefined);
  t.equal(splitSchemeNamePort(':80'), undefined);
  t.equal(splitSchemeNamePort('a:b:c:d'), undefined);
});

t.test('pod target: given port, else the first container port, else 80', async (t) => {
  const pod = { metadata: { name: 'p' }, spec: { containers: [{}, { ports: [{ containerPort: 9090 }] }] }, status: { podIP: '10.42.0.7' } };
  t.same(podProxyTarget(pod, { scheme: 'http', name: 'p', port: '8080' }), { scheme: 'http', host: '10.42.0.7', port: 8080 });
  t.same(podProxyTarget(pod, { scheme: 'http', name: 'p', port: '' }), { scheme: 'http', host: '10.42.0.7', port: 9090 });
  t.same(podProxyTarget({ ...pod, spec: { containers: [{}] } }, { scheme: 'http', name: 'p', port: '' }).port, 80);
  t.equal(err(() => podProxyTarget({ metadata: { name: 'p' } }, { scheme: 'http', name: 'p', port: '80' })), '400 BadRequest address not allowed');
});

t.test('service target: port number to port name, then an endpoint address with that port name', async (t) => {
  const svc = { metadata: { name: 's' }, spec: { ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9100 }] } };
  const eps = { metadata: { name: 's' }, subsets: [{ addresses: [{ ip: '10.42.0.2' }, { ip: '10.42.0.3' }], ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9101 }] }] };
  const id = (port: string) => ({ scheme: 'http' as const, name: 's', port });
  t.same(serviceProxyTarget(svc, eps, id('80'), () => 1), { scheme: 'http', host: '10.42.0.3', port: 8080 });
  t.same(serviceProxyTarget(svc, eps, id('metrics'), () => 0), { scheme: 'http', host: '10.42.0.2', port: 9101 });
  t.equal(err(() => serviceProxyTarget(svc, eps, id('81'))), '503 ServiceUnavailable no service port 81 found for service "s"');
  t.equal(err(() => serviceProxyTarget(svc, eps, id('other'))), '503 ServiceUnavailable no endpoints available for service "s"');
  t.equal(err(() => serviceProxyTarget(svc, { metadata: {}, subsets: [] }, id('80'))), '503 ServiceUnavailable no endpoints available for service "s"');
  // An unnamed single port: the service's port number maps to the name "".
  const one = { metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } };
  t.same(serviceProxyTarget(one, { metadata: {}, subsets: [{ addresses: [{ ip: '10.0.0.9' }], ports: [{ port: 8080 }] }] }, id('80')), { scheme: 'http', host: '10.0.0.9', port: 8080 });
});

t.test('the routes forward method, path, query and body and stream the reply', async (t) => {
  const seen: string[] = [];
  const backend = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body} auth=${req.headers.authorization ?? ''}`);
      res.setHeader('x-from', 'pod');
      res.end(`hello from ${req.url}`);
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  t.teardown(() => backend.close());
  const port = (backend.address() as AddressInfo).port;
  const client = new FakeClient();
  client.seed(core('pods'), { metadata: { name: 'p', namespace: 'default' }, status: { podIP: '127.0.0.1' } });
  client.seed(core('services'), { metadata: { name: 's', namespace: 'default' }, spec: { ports: [{ name: 'web', port: 80 }] } });
  client.seed(core('endpoints'), { metadata: { name: 's', namespace: 'default' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'web', port }] }] } as never);
  const app = new Hono<Env>();
  app.onError((e) => statusResponse(e));
  podServiceProxyRoutes({ client })(app);
  const r1 = await app.request(`/api/v1/namespaces/default/pods/p:${port}/proxy/a/b?x=1`, { headers: { authorization: 'Bearer secret' } });
  t.equal(r1.status, 200);
  t.equal(r1.headers.get('x-from'), 'pod');
  t.equal(await r1.text(), 'hello from /a/b?x=1');
  const r2 = await app.request('/api/v1/namespaces/default/services/s:80/proxy', { method: 'POST', body: 'data' });
  t.equal(await r2.text(), 'hello from /');
  t.same(seen, ['GET /a/b?x=1  auth=', 'POST / data auth=']);
  const r3 = await app.request('/api/v1/namespaces/default/services/s:81/proxy/');
  t.equal(r3.status, 503);
  t.match(await r3.json(), { reason: 'ServiceUnavailable', message: 'no service port 81 found for service "s"' });
  // Nothing listens there: a 503 naming the dial error.
  const closed = await new Promise<number>((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => r(p)); }); });
  const r4 = await app.request(`/api/v1/namespaces/default/pods/p:${closed}/proxy/`);
  t.equal(r4.status, 503);
  t.match(((await r4.json()) as { message: string }).message, /^error trying to reach service: connect ECONNREFUSED/);
});
