// POST: create an object in a collection, or call a subresource (pods/binding, pods/eviction...).
import type { Context } from 'hono';
import { toVersion } from '../registry/object.ts';
import { createSubresource } from '../registry/subresource.ts';
import { validateFields, withWarnings } from './field-validation.ts';
import { negotiate, shaped } from './negotiate.ts';
import { readObject, refuse, requireNamespace, writeContext, type ResourceRequest } from './request.ts';

export async function createHandler(c: Context, r: ResourceRequest): Promise<Response> {
  requireNamespace(r);
  const s = r.strategy;
  const w = writeContext(r, c.req.header('user-agent'));
  if (r.name && r.subresource) {
    const body = await readObject(c);
    const out = await createSubresource(r.registry, s, r.namespace, r.name, r.subresource, body, w);
    return Response.json(out, { status: 201 });
  }
  if (r.name) refuse('POST', r);
  const shape = negotiate(c);
  const body = await readObject(c);
  const warnings = validateFields(r, body);
  const obj = toVersion(s, await r.registry.create(s, r.namespace, body, w), r.version);
  return withWarnings(shaped(c, s, shape, obj, r.registry.clock.now(), 201), warnings);
}
