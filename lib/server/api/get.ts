// GET of one object, its status or its scale.
import type { Context } from 'hono';
import { toVersion } from '../registry/object.ts';
import { getScale } from '../registry/scale.ts';
import { negotiate, shaped } from './negotiate.ts';
import { isObjectSubresource, refuse, requireNamespace, type ResourceRequest } from './request.ts';

export async function getHandler(c: Context, r: ResourceRequest): Promise<Response> {
  requireNamespace(r);
  const s = r.strategy;
  if (r.subresource === 'scale') return Response.json(await getScale(r.registry, s, r.namespace, r.name!));
  if (r.subresource && !isObjectSubresource(r)) refuse('GET', r);
  const shape = negotiate(c);
  const obj = toVersion(s, await r.registry.get(s, r.namespace, r.name!), r.version);
  return shaped(c, s, shape, obj, r.registry.clock.now());
}
