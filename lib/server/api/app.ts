// The API server's hono app: authentication/authorization hooks, health and version, discovery, and the resource
// verbs dispatched to one handler file each. Errors of every kind become a Status in status.ts.
import { Hono, type Context } from 'hono';
import { openApiRoutes } from '../openapi/index.ts';
import type { UserInfo } from '../auth/types.ts';
import { forbidden, unauthorized } from '../registry/errors.ts';
import type { Registry } from '../registry/registry.ts';
import { ALL_VERBS } from '../resources/types.ts';
import { attributesOf } from './attributes.ts';
import { createHandler } from './create.ts';
import { deleteHandler } from './delete.ts';
import { deleteCollectionHandler } from './deletecollection.ts';
import {
  AGGREGATED_V2, AGGREGATED_V2BETA1, aggregatedDiscovery, apiGroupDoc, apiGroupList, apiResourceList, apiVersions, wantsAggregated,
} from './discovery.ts';
import { getHandler } from './get.ts';
import { mountHealth, type HealthCheck } from './health.ts';
import { DEFAULT_USER, type ApiHooks } from './hooks.ts';
import { listHandler } from './list.ts';
import { patchHandler } from './patch.ts';
import { boolParam, refuse, resolveResource, resourceNotFound, splitApiPath, type ResourceRequest } from './request.ts';
import { statusResponse } from './status.ts';
import { updateHandler } from './update.ts';
import { watchHandler } from './watch.ts';
import { metricsMiddleware, mountMetrics } from './metrics.ts';

export type Env = { Variables: { user: UserInfo } };
export type SubresourceHandler = (c: Context<Env>, r: ResourceRequest) => Promise<Response>;

export interface ApiAppOptions {
  registry: Registry;
  hooks?: ApiHooks;
  /** Routes mounted before the resource routes (openapi, metrics, aggregated APIs...). */
  routes?: (app: Hono<Env>) => void;
  /** Streaming or special subresources, keyed "pods/log", "pods/exec", "serviceaccounts/token"... */
  subresourceHandlers?: Record<string, SubresourceHandler>;
  health?: { livez?: Record<string, HealthCheck>; readyz?: Record<string, HealthCheck> };
  /** Serve /openapi/v2 and /openapi/v3 from the catalog (default true). */
  openapi?: boolean;
}

function verbOf(method: string, r: ResourceRequest): string {
  switch (method) {
    case 'GET': case 'HEAD':
      if (r.watchPrefix || boolParam(r.query, 'watch')) return 'watch';
      return r.name ? 'get' : 'list';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return r.name ? 'delete' : 'deletecollection';
    default: return '';
  }
}

export function createApiApp(o: ApiAppOptions): Hono<Env> {
  const { registry } = o;
  const hooks = o.hooks ?? {};
  if (hooks.admit) registry.setAdmit(hooks.admit);
  const app = new Hono<Env>();
  app.onError((err) => statusResponse(err));
  app.notFound(() => statusResponse(resourceNotFound()));
  app.use('*', metricsMiddleware());

  app.use('*', async (c, next) => {
    let user = DEFAULT_USER;
    if (hooks.authenticate) {
      const res = await hooks.authenticate(c.req.raw, c);
      if ('error' in res) throw unauthorized();
      user = res.user;
    }
    c.set('user', user);
    if (hooks.authorize) {
      const a = { ...attributesOf(c), user };
      const d = await hooks.authorize(a);
      if (d.decision !== 'allow') {
        const what = a.resourceRequest
          ? `${a.resource}${a.subresource ? '/' + a.subresource : ''}${a.name ? ` "${a.name}"` : ''} is forbidden: User "${user.username}" cannot ${a.verb} resource "${a.resource}${a.subresource ? '/' + a.subresource : ''}" in API group "${a.apiGroup ?? ''}"${a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope'}`
          : `forbidden: User "${user.username}" cannot ${a.verb} path "${a.path}"`;
        throw forbidden(`${what}${d.reason ? `: ${d.reason}` : ''}`);
      }
    }
    await next();
  });

  mountHealth(app as unknown as Hono, o.health);
  mountMetrics(app as unknown as Hono);
  if (o.openapi !== false) app.route('/', openApiRoutes(registry.catalog));
  o.routes?.(app);

  const catalog = registry.catalog;
  app.get('/api', (c) => {
    const agg = wantsAggregated(c);
    if (agg) return new Response(JSON.stringify(aggregatedDiscovery(catalog, true, agg)), { headers: { 'content-type': agg === 'v2' ? AGGREGATED_V2 : AGGREGATED_V2BETA1 } });
    return c.json(apiVersions(c.req.header('host') ?? '127.0.0.1'));
  });
  app.get('/apis', (c) => {
    const agg = wantsAggregated(c);
    if (agg) return new Response(JSON.stringify(aggregatedDiscovery(catalog, false, agg)), { headers: { 'content-type': agg === 'v2' ? AGGREGATED_V2 : AGGREGATED_V2BETA1 } });
    return c.json(apiGroupList(catalog));
  });
  app.get('/apis/:group', (c) => {
    const doc = apiGroupDoc(catalog, c.req.param('group'));
    return doc ? c.json(doc) : statusResponse(resourceNotFound());
  });

  const resources = async (c: Context<Env>) => {
    const url = new URL(c.req.url);
    const p = splitApiPath(url.pathname);
    if (!p) throw resourceNotFound();
    if (p.rest.length === 0 && (c.req.method === 'GET' || c.req.method === 'HEAD')) {
      const doc = apiResourceList(catalog, p.group, p.version);
      if (!doc) throw resourceNotFound();
      return c.json(doc);
    }
    const r = resolveResource(registry, p, c.get('user') ?? DEFAULT_USER, url.searchParams);
    if (r.subresource) {
      const h = o.subresourceHandlers?.[`${r.resource}/${r.subresource}`];
      if (h) return h(c, r);
    }
    const verb = verbOf(c.req.method, r);
    if (!verb || (!r.subresource && !(r.strategy.verbs ?? ALL_VERBS).includes(verb))) refuse(c.req.method, r);
    switch (verb) {
      case 'get': return getHandler(c, r);
      case 'list': return listHandler(c, r);
      case 'watch': return watchHandler(c, r);
      case 'create': return createHandler(c, r);
      case 'update': return updateHandler(c, r);
      case 'patch': return patchHandler(c, r);
      case 'delete': return deleteHandler(c, r);
      default: return deleteCollectionHandler(c, r);
    }
  };
  app.all('/api/*', resources);
  app.all('/apis/*', resources);
  return app;
}
