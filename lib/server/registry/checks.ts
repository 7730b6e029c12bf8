// Input checks shared by the registry's writes: names that are safe as store keys, the JSON shape of metadata,
// and strategy hooks whose TypeErrors mean a malformed body.
import { ApiError, type KubeObject } from '../../client/types.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { badRequest } from './errors.ts';

export function stripRv(o: KubeObject): KubeObject {
  const { resourceVersion, ...m } = o.metadata;
  void resourceVersion;
  return { ...o, metadata: m };
}

/** Names end up in store keys: refuse path separators and dot segments before anything else. */
export function checkName(s: ResourceStrategy, name: string): void {
  if (!name || name === '.' || name === '..' || name.includes('/') || name.includes('%')) {
    throw new ApiError({ code: 400, reason: 'BadRequest', status: 'Failure', message: `invalid ${s.singular} name ${JSON.stringify(name)}: may not contain '/' or '%' or be '.' or '..'` });
  }
}

/**
 * Runs a strategy hook; a TypeError there means the body does not have the kind's structure (a string where an
 * object belongs...): 400 as Kubernetes' decoder answers, not a 500.
 */
export async function shaped<T>(s: ResourceStrategy, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof TypeError) throw badRequest(`the object does not match the structure of ${s.kind}: ${e.message}`);
    throw e;
  }
}

const isMap = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** metadata fields every kind shares must have their JSON types (400 otherwise, as decoding would fail). */
export function checkMetaShape(s: ResourceStrategy, obj: KubeObject): void {
  const bad = (field: string, want: string) => badRequest(`${s.kind} in version "${s.versions[0]}" cannot be handled as a ${s.kind}: json: cannot unmarshal ${field} into Go struct field ObjectMeta.metadata.${field} of type ${want}`);
  const m = obj.metadata as unknown;
  if (m === null || m === undefined) { obj.metadata = {}; return; }
  if (!isMap(m)) throw badRequest(`${s.kind}: metadata must be an object`);
  const meta = m as Record<string, unknown>;
  for (const f of ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp']) {
    if (meta[f] !== undefined && meta[f] !== null && typeof meta[f] !== 'string') throw bad(f, 'string');
  }
  for (const f of ['labels', 'annotations']) {
    const v = meta[f];
    if (v === undefined || v === null) continue;
    if (!isMap(v) || Object.values(v as object).some((x) => typeof x !== 'string')) throw bad(f, 'map[string]string');
  }
  if (meta.finalizers != null && (!Array.isArray(meta.finalizers) || meta.finalizers.some((x) => typeof x !== 'string'))) throw bad('finalizers', '[]string');
  if (meta.ownerReferences != null && (!Array.isArray(meta.ownerReferences) || meta.ownerReferences.some((x) => !isMap(x)))) throw bad('ownerReferences', '[]v1.OwnerReference');
  for (const f of ['generation', 'deletionGracePeriodSeconds']) if (meta[f] != null && typeof meta[f] !== 'number') throw bad(f, 'int64');
  for (const f of Object.keys(meta)) if (meta[f] === null) delete meta[f];
}
