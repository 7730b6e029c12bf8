// PUT: replace an object, its status (or a namespace's finalizers), or its scale.
import type { Context } from 'hono';
import { toVersion } from '../registry/object.ts';
import { updateScale } from '../registry/scale.ts';
import { validateFields, withWarnings } from './field-validation.ts';
import { negotiate, shaped } from './negotiate.ts';
import { isObjectSubresource, readObject, refuse, requireNamespace, writeContext, type ResourceRequest } from './request.ts';

export async function updateHandler(c: Context, r: ResourceRequest): Promise<Response> {
  requireNamespace(r);
  if (!r.name) refuse('PUT', r);
  const s = r.strategy;
  const w = writeContext(r, c.req.header('user-agent'));
  const body = await readObject(c);
  if (r.subresource === 'scale') return Response.json(await updateScale(r.registry, s, r.namespace, r.name, () => body, { ...w, subresource: 'scale' }));
  if (r.subresource && r.subresource !== 'finalize' && !isObjectSubresource(r)) refuse('PUT', r);
  const warnings = validateFields(r, body);
  const shape = negotiate(c);
  const res = await r.registry.update(s, r.namespace, r.name, body, w, r.subresource);
  return withWarnings(shaped(c, s, shape, toVersion(s, res.object, r.version), r.registry.clock.now(), res.created ? 201 : 200), warnings);
}
