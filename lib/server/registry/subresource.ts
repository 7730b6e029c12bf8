// POST to a subresource with a custom handler (pods/binding, pods/eviction, serviceaccounts/token...).
import type { KubeObject } from '../../client/types.ts';
import type { ResourceStrategy, SubresourceRequest } from '../resources/types.ts';
import type { WriteContext } from './admission.ts';
import { methodNotAllowed, notFound } from './errors.ts';
import type { Registry } from './registry.ts';

export async function createSubresource(
  r: Registry, s: ResourceStrategy, namespace: string | undefined, name: string, sub: string, body: KubeObject, w: WriteContext = {},
): Promise<KubeObject> {
  const spec = s.subresources?.find((x) => x.name === sub);
  if (!spec) throw notFound({ group: s.group, plural: `${s.plural}/${sub}` }, name);
  if (!spec.create) throw methodNotAllowed(`the server does not allow this method on the requested resource (post ${s.plural}/${sub})`);
  const req: SubresourceRequest = {
    name, namespace, body: body ?? { metadata: {} }, ctx: r.ctx(w),
    get: () => r.get(s, namespace, name),
    update: (mutate) => r.rawUpdate(s, namespace, name, mutate),
    delete: async (opts) => { await r.delete(s, namespace, name, opts, w); },
  };
  return spec.create(req);
}
