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
  const l = await list(r.registry, r.strategy, listOptions(r));
  return shaped(c, r.strategy, shape, l as never, r.registry.clock.now());
}
