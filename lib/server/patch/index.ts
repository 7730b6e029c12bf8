// Patch application for the PATCH verb: content type → algorithm. Strategic merge is for built-in kinds only
// (custom resources answer 415, as Kubernetes does).
import type { PatchType } from '../../client/types.ts';
import { badPatch, unsupportedPatch } from './errors.ts';
import { jsonMergePatch } from './json-merge.ts';
import { jsonPatch } from './json-patch.ts';
import type { PatchMetaLookup } from './patch-meta.ts';
import { strategicMergePatch } from './strategic.ts';

export { strategicMergePatch } from './strategic.ts';
export { jsonMergePatch } from './json-merge.ts';
export { jsonPatch } from './json-patch.ts';
export { builtinPatchMeta, type PatchMetaLookup, type ListPatchMeta } from './patch-meta.ts';

const CONTENT_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

/** Maps a request Content-Type to a patch type; throws 415 for anything else. */
export function patchTypeOf(contentType: string | undefined): PatchType {
  const base = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const t = CONTENT_TYPES[base];
  if (!t || base === 'application/apply-patch+cbor') throw unsupportedPatch(contentType ?? '');
  return t;
}

export interface ApplyPatchOptions {
  /** Built-in kind name, or a patch-metadata lookup. Absent (custom resources): strategic merge is refused (415). */
  kind?: string | PatchMetaLookup;
}

/**
 * Applies a parsed patch body of the given type to original and returns the new object. Server-side apply
 * ('apply') is approximated as a strategic merge of the applied configuration (a JSON merge for custom resources).
 */
export function applyPatch(type: PatchType, original: unknown, patch: unknown, opts: ApplyPatchOptions = {}): Record<string, unknown> {
  let out: unknown;
  switch (type) {
    case 'json':
      out = jsonPatch(original, patch);
      break;
    case 'merge':
      out = jsonMergePatch(original, patch);
      break;
    case 'strategic':
      if (opts.kind === undefined) throw unsupportedPatch('application/strategic-merge-patch+json');
      out = strategicMergePatch(original, patch, opts.kind);
      break;
    case 'apply':
      out = opts.kind === undefined ? jsonMergePatch(original, patch) : strategicMergePatch(original, patch, opts.kind);
      break;
    default:
      throw unsupportedPatch(String(type));
  }
  if (typeof out !== 'object' || out === null || Array.isArray(out)) throw badPatch('patch result is not an object');
  return out as Record<string, unknown>;
}
