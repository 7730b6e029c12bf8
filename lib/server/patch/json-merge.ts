// RFC 7396 JSON merge patch (application/merge-patch+json): objects merge recursively, null deletes, everything
// else (arrays included) replaces.
import { badPatch } from './errors.ts';

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function jsonMergePatch(original: unknown, patch: unknown): unknown {
  if (!isMap(patch)) {
    if (patch === undefined) throw badPatch('empty merge patch');
    return structuredClone(patch);
  }
  const out: Record<string, unknown> = isMap(original) ? { ...original } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = jsonMergePatch(out[k], v);
  }
  return out;
}
