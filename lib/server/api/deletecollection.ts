// DELETE of a collection: every object matching the selectors; answers the List of what was deleted.
import type { Context } from 'hono';
import type { KubeObject } from '../../client/types.ts';
import { list } from '../registry/list.ts';
import { apiVersionOf } from '../resources/types.ts';
import { deleteOptions } from './delete.ts';
import { listOptions } from './list.ts';
import { refuse, writeContext, type ResourceRequest } from './request.ts';

export async function deleteCollectionHandler(c: Context, r: ResourceRequest): Promise<Response> {
  if (r.strategy.verbs && !r.strategy.verbs.includes('deletecollection')) refuse('DELETE', r);
  const opts = await deleteOptions(c, r);
  const w = writeContext(r);
  const l = await list(r.registry, r.strategy, { ...listOptions(r), limit: undefined, continue: undefined });
  const items: KubeObject[] = [];
  for (const o of l.items) {
    try {
      items.push((await r.registry.delete(r.strategy, o.metadata.namespace, o.metadata.name!, opts, w)).object);
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw e;
    }
  }
  return Response.json({ apiVersion: apiVersionOf(r.strategy.group, r.version), kind: `${r.strategy.kind}List`, metadata: {}, items });
}
