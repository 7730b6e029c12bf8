// Server-side apply, the part that makes re-applying a shorter manifest remove fields: each Apply manager's field
// set is kept in metadata.managedFields (FieldsV1 form); fields the manager applied before and omits now are removed.
// Lists are owned whole (their elements merge as in strategic merge); ownership by other managers is not tracked.
import type { KubeObject } from '../../client/types.ts';

type FieldSet = { [k: string]: FieldSet };
const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The FieldsV1 set of an applied configuration: map keys as "f:<key>", lists and scalars as leaves. */
export function fieldSet(applied: KubeObject): FieldSet {
  const out: FieldSet = {};
  for (const [k, v] of Object.entries(applied)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (k === 'metadata') {
      const meta: FieldSet = {};
      for (const f of ['labels', 'annotations'] as const) {
        const m = (v as KubeObject['metadata'] | undefined)?.[f];
        if (isMap(m) && Object.keys(m).length) meta[`f:${f}`] = Object.fromEntries(Object.keys(m).map((x) => [`f:${x}`, {}]));
      }
      if (Object.keys(meta).length) out['f:metadata'] = meta;
      continue;
    }
    out[`f:${k}`] = walk(v);
  }
  return out;
}

function walk(v: unknown): FieldSet {
  if (!isMap(v)) return {};
  const out: FieldSet = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    out[`f:${k}`] = walk(x);
  }
  return out;
}

/** Leaf paths of `prev` missing from `next` (a path under a leaf of `next` stays: the value is owned whole). */
export function removedPaths(prev: FieldSet, next: FieldSet, path: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, sub] of Object.entries(prev)) {
    if (!k.startsWith('f:')) continue;
    const key = k.slice(2);
    const n = next[k];
    if (n === undefined) out.push([...path, key]);
    else if (Object.keys(n).length && Object.keys(sub).length) out.push(...removedPaths(sub, n, [...path, key]));
  }
  return out;
}

export function removePath(obj: Record<string, unknown>, path: string[]): void {
  let cur: unknown = obj;
  for (const p of path.slice(0, -1)) {
    if (!isMap(cur)) return;
    cur = cur[p];
  }
  if (isMap(cur)) delete cur[path[path.length - 1]!];
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldSet;
  subresource?: string;
}

export function appliedSet(obj: KubeObject, manager: string): FieldSet | undefined {
  const entries = (obj.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
  return entries.find((e) => e.manager === manager && e.operation === 'Apply' && !e.subresource)?.fieldsV1;
}

/** The object's managedFields with `manager`'s Apply entry replaced. */
export function withApplied(obj: KubeObject, manager: string, set: FieldSet, time: string): ManagedFieldsEntry[] {
  const all = (obj.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
  const mine = (e: ManagedFieldsEntry) => e.manager === manager && e.operation === 'Apply' && !e.subresource;
  const prev = all.find(mine);
  // an unchanged set keeps its time, so re-applying the same manifest is a no-op write
  if (prev && JSON.stringify(prev.fieldsV1) === JSON.stringify(set) && prev.apiVersion === obj.apiVersion) return all;
  return [...all.filter((e) => !mine(e)), { manager, operation: 'Apply', apiVersion: obj.apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: set }];
}
