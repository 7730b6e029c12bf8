// Kubernetes strategic merge patch (application/strategic-merge-patch+json) for built-in kinds: lists merge by their
// patchMergeKey, `$patch: replace|delete|merge`, `$setElementOrder/<f>`, `$retainKeys`,
// `$deleteFromPrimitiveList/<f>`, null deletes a field. The result is a new object; inputs are not modified.
import { badPatch } from './errors.ts';
import { builtinPatchMeta, type ListPatchMeta, type PatchMetaLookup } from './patch-meta.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonMap = { [k: string]: Json };

const PATCH = '$patch';
const RETAIN = '$retainKeys';
const ORDER = '$setElementOrder/';
const DEL_PRIM = '$deleteFromPrimitiveList/';

const isMap = (v: unknown): v is JsonMap => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

/** kindOrMeta: a built-in kind name ('Deployment') or a lookup of list strategies by field path. */
export function strategicMergePatch(original: unknown, patch: unknown, kindOrMeta: string | PatchMetaLookup): JsonMap {
  const meta = typeof kindOrMeta === 'string' ? builtinPatchMeta(kindOrMeta) : kindOrMeta;
  if (!isMap(patch)) throw badPatch('strategic merge patch must be a JSON object');
  const base = isMap(original) ? clone(original) : {};
  const out = mergeMap(base, patch, [], meta);
  return out ?? {};
}

/** Merges patch into original (which it may modify). Returns undefined when the patch deletes the whole map. */
function mergeMap(original: JsonMap, patch: JsonMap, path: string[], meta: PatchMetaLookup): JsonMap | undefined {
  const directive = patch[PATCH];
  if (directive !== undefined) {
    if (directive === 'replace') return stripDirectives(withoutKey(patch, PATCH), path, meta) as JsonMap;
    if (directive === 'delete') return undefined;
    if (directive !== 'merge') throw badPatch(`unknown patch type: ${String(directive)} in map`);
  }
  const retain = patch[RETAIN];
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw badPatch('$retainKeys must be a list of strings');
    const keep = new Set(retain.map(String));
    for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
  }
  // $deleteFromPrimitiveList before merging, as upstream does.
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(DEL_PRIM)) continue;
    const field = k.slice(DEL_PRIM.length);
    if (!Array.isArray(v)) throw badPatch(`${k} must be a list`);
    const cur = original[field];
    if (Array.isArray(cur)) {
      const del = new Set(v.map((x) => JSON.stringify(x)));
      original[field] = cur.filter((x) => !del.has(JSON.stringify(x)));
    }
  }
  const live = { ...original };
  for (const [k, pv] of Object.entries(patch)) {
    if (k === PATCH || k === RETAIN || k.startsWith(DEL_PRIM) || k.startsWith(ORDER)) continue;
    if (pv === null) {
      delete original[k];
      continue;
    }
    const sub = [...path, k];
    const ov = original[k];
    if (isMap(pv) && meta(sub)?.strategy === 'replace') {
      original[k] = stripDirectives(pv, sub, meta); // struct field with patchStrategy replace
    } else if (isMap(pv)) {
      const merged = mergeMap(isMap(ov) ? ov : {}, pv, sub, meta);
      if (merged === undefined) delete original[k];
      else original[k] = merged;
    } else if (Array.isArray(pv)) {
      original[k] = mergeList(Array.isArray(ov) ? ov : [], pv, sub, meta);
    } else {
      original[k] = pv;
    }
  }
  // $setElementOrder/<field>: order the merged list as the patch author listed it.
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith(ORDER)) continue;
    const field = k.slice(ORDER.length);
    if (!Array.isArray(order)) throw badPatch(`${k} must be a list`);
    const cur = original[field];
    const before = live[field];
    if (Array.isArray(cur)) original[field] = orderMerged(cur, order, Array.isArray(before) ? before : [], meta([...path, field]));
  }
  return original;
}

function mergeList(original: Json[], patch: Json[], path: string[], meta: PatchMetaLookup): Json[] {
  const lm = meta(path);
  if (!lm || lm.strategy !== 'merge') return patch.map((v) => stripDirectives(v, path, meta));
  const maps = patch.some(isMap) || original.some(isMap);
  if (!maps) {
    const seen = new Set(original.map((x) => JSON.stringify(x)));
    const out = [...original];
    for (const v of patch) if (!seen.has(JSON.stringify(v))) { seen.add(JSON.stringify(v)); out.push(v); }
    return orderMerged(out, patch, original, lm);
  }
  if (patch.some((e) => isMap(e) && e[PATCH] === 'replace')) {
    return patch.filter((e) => !(isMap(e) && e[PATCH] === 'replace')).map((v) => stripDirectives(v, path, meta));
  }
  const key = lm.key;
  if (!key) throw badPatch(`no merge key for list ${path.join('.')}`);
  const out = [...original];
  for (const pe of patch) {
    if (!isMap(pe)) throw badPatch(`list ${path.join('.')} has a non-object element`);
    if (!(key in pe)) throw badPatch(`map: ${JSON.stringify(pe)} does not contain declared merge key: ${key}`);
    const idx = out.findIndex((oe) => isMap(oe) && JSON.stringify(oe[key]) === JSON.stringify(pe[key]));
    if (pe[PATCH] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) {
      const merged = mergeMap(out[idx] as JsonMap, pe, path, meta);
      if (merged === undefined) out.splice(idx, 1);
      else out[idx] = merged;
    } else {
      const fresh = mergeMap({}, pe, path, meta);
      if (fresh) out.push(fresh);
    }
  }
  return orderMerged(out, patch.filter((e) => !(isMap(e) && e[PATCH] === 'delete')), original, lm);
}

/**
 * Orders a merged list as upstream does: items named in `order` (the patch, or $setElementOrder) sorted by it,
 * interleaved with the server-only items, which keep their places relative to the live list.
 */
function orderMerged(merged: Json[], order: Json[], live: Json[], lm: ListPatchMeta | undefined): Json[] {
  const id = (v: Json): string => (isMap(v) && lm?.key ? JSON.stringify(v[lm.key]) : JSON.stringify(v));
  const orderIdx = new Map<string, number>();
  order.forEach((o, i) => { if (!orderIdx.has(id(o))) orderIdx.set(id(o), i); });
  const liveIdx = new Map<string, number>();
  live.forEach((o, i) => { if (!liveIdx.has(id(o))) liveIdx.set(id(o), i); });
  const right = merged.filter((v) => orderIdx.has(id(v))).sort((a, b) => orderIdx.get(id(a))! - orderIdx.get(id(b))!);
  const left = merged.filter((v) => !orderIdx.has(id(v)));
  const out: Json[] = [];
  let i = 0, j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]!);
    else if (j >= right.length) out.push(left[i++]!);
    else {
      const li = liveIdx.get(id(left[i]!)), ri = liveIdx.get(id(right[j]!));
      if (li !== undefined && ri !== undefined && li < ri) out.push(left[i++]!);
      else out.push(right[j++]!);
    }
  }
  return out;
}

/** A patch value landing where nothing was: merge it into emptiness so directives and nulls disappear. */
function stripDirectives(v: Json, path: string[], meta: PatchMetaLookup): Json {
  if (isMap(v)) return mergeMap({}, v, path, meta) ?? {};
  if (Array.isArray(v)) return v.map((e) => stripDirectives(e, path, meta));
  return v;
}

function withoutKey(m: JsonMap, k: string): JsonMap {
  const { [k]: _drop, ...rest } = m;
  void _drop;
  return rest;
}
