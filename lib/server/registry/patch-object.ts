// PATCH over the registry: JSON patch, merge patch, strategic merge patch and server-side apply (create-or-merge),
// for the object, its status or its scale.
import type { KubeObject, PatchType } from '../../client/types.ts';
import { applyPatch } from '../patch/index.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import type { WriteContext } from './admission.ts';
import { badRequest } from './errors.ts';
import type { Registry, UpdateResult } from './registry.ts';
import { applyOwnership } from './apply-fields.ts';
import { toVersion } from './object.ts';
import { updateScale } from './scale.ts';

export async function patchObject(
  r: Registry, s: ResourceStrategy, namespace: string | undefined, name: string,
  type: PatchType, body: unknown, w: WriteContext = {}, subresource?: string,
): Promise<UpdateResult> {
  if (w.force && type !== 'apply') throw badRequest('force: Forbidden: may not be specified for non-apply patch');
  if (subresource === 'scale') {
    const object = await updateScale(r, s, namespace, name, (scale) => applyPatch(type === 'json' ? 'json' : 'merge', scale, body) as KubeObject, { ...w, subresource: 'scale' });
    return { object, created: false };
  }
  const kind = s.custom ? undefined : s.kind;
  // resources stored as another one's objects (events.k8s.io) are patched in their own form
  const served = (cur: KubeObject) => (s.storedAs ? toVersion(s, cur, s.versions[0]) : cur);
  const apply = (cur: KubeObject) => applyPatch(type, served(cur), body, { kind }) as KubeObject;
  if (type !== 'apply') return r.guaranteedUpdate(s, namespace, name, apply, w, subresource);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('apply patch must be an object');
  const b = body as KubeObject;
  if (b.metadata?.name && b.metadata.name !== name) throw badRequest(`the name of the object (${b.metadata.name}) does not match the name on the URL (${name})`);
  // Ownership, pruning and conflicts: apply-fields.ts.
  const manager = w.fieldManager ?? 'unknown';
  const wa: WriteContext = { ...w };
  const own = (live: KubeObject | undefined, merged: KubeObject) => {
    wa.managedFields = applyOwnership({ strategy: s, live, merged, applied: b, manager, force: w.force, subresource, now: r.clock.now() });
    return merged;
  };
  try {
    return await r.guaranteedUpdate(s, namespace, name, (cur) => own(served(cur), apply(cur)), wa, subresource);
  } catch (e) {
    if ((e as { code?: number }).code !== 404 || subresource) throw e;
    const obj = own(undefined, { ...structuredClone(b), metadata: { ...structuredClone(b.metadata), name } });
    return { object: await r.create(s, namespace, obj, wa), created: true };
  }
}
