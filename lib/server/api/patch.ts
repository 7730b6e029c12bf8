// PATCH: JSON patch, merge patch, strategic merge patch or server-side apply, on an object, its status or scale.
import type { Context } from 'hono';
import { patchTypeOf } from '../patch/index.ts';
import { toVersion } from '../registry/object.ts';
import { patchObject } from '../registry/patch-object.ts';
import { validateFields, withWarnings } from './field-validation.ts';
import { negotiate, shaped } from './negotiate.ts';
import { isObjectSubresource, parseJson, parseYamlBody, readBody, refuse, requireNamespace, writeContext, type ResourceRequest } from './request.ts';

export async function patchHandler(c: Context, r: ResourceRequest): Promise<Response> {
  requireNamespace(r);
  if (!r.name) refuse('PATCH', r);
  if (r.subresource && r.subresource !== 'scale' && !isObjectSubresource(r)) refuse('PATCH', r);
  const s = r.strategy;
  const type = patchTypeOf(c.req.header('content-type'));
  const w = writeContext(r, c.req.header('user-agent'));
  if (type === 'apply' && !w.fieldManager) {
    const { badRequest } = await import('../registry/errors.ts');
    throw badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  }
  const bytes = await readBody(c);
  const body = type === 'apply' ? parseYamlBody(bytes) : parseJson(bytes);
  const warnings = r.subresource !== 'scale' && type !== 'json' ? validateFields(r, body, type !== 'apply') : [];
  const shape = r.subresource === 'scale' ? 'object' : negotiate(c);
  const res = await patchObject(r.registry, s, r.namespace, r.name, type, body, w, r.subresource);
  const obj = r.subresource === 'scale' ? res.object : toVersion(s, res.object, r.version);
  return withWarnings(shaped(c, s, shape, obj, r.registry.clock.now(), res.created ? 201 : 200), warnings);
}
