// LIST of a collection (one namespace or all), as a List, Table or PartialObjectMetadataList.
import type { Context } from 'hono';
import { list } from '../registry/list.ts';
import { negotiate, shaped } from './negotiate.ts';
import { intParam, type ResourceRequest } from './request.ts';

export function listOptions(r: ResourceRequest) {
  const q = r.query;
  return {
    namespace: r.namespace,
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit: intParam(q, 'limit'),
    continue: q.get('continue') ?? undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
    version: r.version,
  };
}

export async function listHandler(c: Context, r: ResourceRequest): Promise<Response> {
  const shape = negotiate(c);
  const l = await list(r.registry, r.strategy, { ...listOptions(r), json: shape === 'object' });
  if (l.itemsJson) {
    // the same bytes as JSON.stringify(l) with the items in place, from the registry's cache of serialized objects
    const body = `{"apiVersion":${JSON.stringify(l.apiVersion)},"kind":${JSON.stringify(l.kind)},"metadata":${JSON.stringify(l.metadata)},"items":[${l.itemsJson.join(',')}]}`;
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  }
  return shaped(c, r.strategy, shape, l as never, r.registry.clock.now());
}
