// /metrics and the request instrumentation behind it: counts and latencies by verb, group and resource (watches
// counted, not timed; open watches as a gauge). Rendering and the metric objects live in lib/metrics.ts.
import type { Hono, MiddlewareHandler } from 'hono';
import { apiLatency, apiRequests, metricsContentType, renderMetrics } from '../../metrics.ts';
import { attributesOf } from './attributes.ts';

export function metricsMiddleware(): MiddlewareHandler {
  return async (c, next) => {
    const path = c.req.path;
    if (!path.startsWith('/api/') && !path.startsWith('/apis/')) return next();
    const a = attributesOf(c);
    if (!a.resourceRequest) return next();
    const verb = (a.verb ?? c.req.method).toUpperCase();
    const labels = { verb, group: a.apiGroup ?? '', resource: a.subresource ? `${a.resource}/${a.subresource}` : (a.resource ?? '') };
    const started = performance.now();
    await next();
    apiRequests.inc({ ...labels, code: String(c.res.status) });
    if (verb !== 'WATCH') apiLatency.observe(labels, (performance.now() - started) / 1000);
    // the open-watches gauge is kept by the watch handler, for as long as the watch runs
  };
}

export function mountMetrics(app: Hono): void {
  app.get('/metrics', async () => new Response(await renderMetrics(), { headers: { 'content-type': metricsContentType } }));
}
