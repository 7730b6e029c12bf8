// metadata.managedFields as Kubernetes keeps them: one entry per (manager, operation Apply|Update, subresource, and
// for Update the apiVersion), each with the FieldsV1 set of the fields that manager owns. Every write records its
// writer: a non-apply write (create, update, patch) takes the fields it changed away from everyone else into its
// Update entry; an apply (apply-fields.ts) replaces its Apply entry and answers 409 when it changes a field another
// manager owns, unless forced.
import { ApiError, type KubeObject } from '../../client/types.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { apiVersionOf } from '../resources/types.ts';
import type { WriteContext } from './admission.ts';
import {
  compare, deepEqual, difference, emptySet, fromFieldsV1, intersection, isEmpty, paths, pathString, removeFields, shapesFor,
  toFieldSet, toFieldsV1, union, type FieldSet, type FieldsV1, type Shapes,
} from './field-set.ts';
import { rfc3339 } from './object.ts';

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldsV1;
  subresource?: string;
}

/** One decoded entry: who, and the fields they own. */
export interface Managed {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion?: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
  /** The decoded FieldsV1 and its set: an entry whose set is still `decoded` is encoded as it came. */
  raw?: { fieldsV1: FieldsV1 | undefined; decoded: FieldSet };
}

/** The identity of an entry: Apply entries do not depend on the apiVersion, Update entries do. */
export const identity = (m: Pick<Managed, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string =>
  JSON.stringify([m.manager, m.operation, m.operation === 'Apply' ? '' : m.apiVersion ?? '', m.subresource ?? '']);

/** Decodes managedFields; undefined when they are not a well-formed list of entries. */
export function decodeManaged(v: unknown): Managed[] | undefined {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return undefined;
  const out: Managed[] = [];
  for (const e of v as ManagedFieldsEntry[]) {
    if (!e || typeof e !== 'object' || typeof e.manager !== 'string') return undefined;
    if (e.operation !== 'Apply' && e.operation !== 'Update') return undefined;
    if (e.fieldsType !== undefined && e.fieldsType !== 'FieldsV1') return undefined;
    const set = fromFieldsV1(e.fieldsV1);
    out.push({ manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, subresource: e.subresource || undefined, time: e.time, set, raw: { fieldsV1: e.fieldsV1, decoded: set } });
  }
  return out;
}

/** Encodes entries as Kubernetes orders them (Apply before Update, then by time, manager, apiVersion, subresource). */
export function encodeManaged(ms: Managed[]): ManagedFieldsEntry[] {
  const key = (m: Managed) => [m.operation, m.time ?? '', m.manager, m.apiVersion ?? '', m.subresource ?? ''];
  return ms.filter((m) => !isEmpty(m.set)).sort((a, b) => {
    const ka = key(a), kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    return 0;
  }).map((m) => {
    const e: ManagedFieldsEntry = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion };
    if (m.time) e.time = m.time;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = m.raw?.decoded === m.set && m.raw.fieldsV1 ? m.raw.fieldsV1 : toFieldsV1(m.set);
    if (m.subresource) e.subresource = m.subresource;
    return e;
  });
}

// Server-set metadata nobody owns (structured-merge-diff's stripped fields).
const SERVER_META = ['name', 'namespace', 'uid', 'creationTimestamp', 'generation', 'resourceVersion', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

/**
 * The part of an object whose fields are tracked for a write on `subresource`: without apiVersion, kind and
 * server-set metadata; only status for the status subresource; without status on the main resource when status is a
 * subresource of its own.
 */
export function trackedView(s: ResourceStrategy, o: KubeObject | undefined, subresource?: string): Record<string, unknown> {
  if (!o) return {};
  if (subresource === 'status') return o.status === undefined ? {} : { status: o.status };
  const { apiVersion, kind, metadata, ...rest } = o;
  void apiVersion; void kind;
  const out: Record<string, unknown> = rest;
  if (s.subresources?.some((x) => x.name === 'status')) delete out.status;
  if (metadata && typeof metadata === 'object') {
    const m: Record<string, unknown> = { ...metadata };
    for (const k of SERVER_META) delete m[k];
    if (Object.keys(m).length) out.metadata = m;
  }
  return out;
}

export const shapesOf = (s: ResourceStrategy): Shapes => shapesFor(s.custom ? undefined : s.kind);
const storageVersion = (s: ResourceStrategy) => s.storedAs?.apiVersion ?? apiVersionOf(s.group, s.versions[0]!);

/** The manager of a non-apply write: fieldManager, else the User-Agent up to its first "/" (as Kubernetes does). */
export function managerOf(w: WriteContext): string {
  if (w.fieldManager) return w.fieldManager;
  const ua = (w.userAgent ?? '').split('/')[0]!.replace(/[^\x20-\x7e]/g, '').slice(0, 128);
  return ua || 'tsk';
}

export interface RecordOptions {
  strategy: ResourceStrategy;
  /** The stored object (absent on create). */
  old?: KubeObject;
  /** The object about to be written; its metadata.managedFields is set here. */
  obj: KubeObject;
  /** managedFields as the client sent them (a client may replace them; `[{}]` clears them). */
  input?: unknown;
  w: WriteContext;
  subresource?: string;
  now: number;
}

/** Sets obj.metadata.managedFields for a write: apply's own entries, or an Update entry for what the writer changed. */
export function recordManagedFields(o: RecordOptions): void {
  const m = o.obj.metadata;
  if (o.w.managedFields) { m.managedFields = o.w.managedFields; return; }
  const oldMf = o.old?.metadata.managedFields;
  let base: Managed[] | undefined;
  if (Array.isArray(o.input) && o.input.length && !deepEqual(o.input, oldMf)) {
    if ((o.input as ManagedFieldsEntry[]).every((e) => !e || typeof e !== 'object' || !e.manager)) { delete m.managedFields; return; }
    base = decodeManaged(o.input);
  }
  const sub = o.subresource === 'status' ? 'status' : o.subresource === 'scale' || o.w.subresource === 'scale' ? 'scale' : undefined;
  const c = compare(trackedView(o.strategy, o.old, sub), trackedView(o.strategy, o.obj, sub), shapesOf(o.strategy));
  if (!base && isEmpty(c.changed) && isEmpty(c.removed)) {
    if (oldMf) m.managedFields = oldMf; else delete m.managedFields;
    return;
  }
  base ??= decodeManaged(oldMf) ?? [];
  if (isEmpty(c.changed) && isEmpty(c.removed)) {
    const out = encodeManaged(base);
    if (out.length) m.managedFields = out; else delete m.managedFields;
    return;
  }
  const self: Managed = { manager: managerOf(o.w), operation: 'Update', apiVersion: storageVersion(o.strategy), subresource: sub, set: emptySet() };
  const id = identity(self);
  let prev: FieldSet = emptySet();
  const others: Managed[] = [];
  for (const e of base) {
    if (identity(e) === id) prev = e.set;
    else others.push({ ...e, set: difference(difference(e.set, c.changed), c.removed) });
  }
  self.set = union(difference(prev, c.removed), c.changed);
  self.time = rfc3339(o.now);
  const out = encodeManaged(capUpdates([...others, self]));
  if (out.length) m.managedFields = out; else delete m.managedFields;
}

const MAX_UPDATE_MANAGERS = 10;

/** At most 10 Update entries: the oldest are merged into "ancient-changes" (one per apiVersion), as upstream does. */
export function capUpdates(ms: Managed[]): Managed[] {
  const updates = ms.filter((m) => m.operation === 'Update').sort((a, b) => ((a.time ?? '') < (b.time ?? '') ? -1 : 1));
  if (updates.length <= MAX_UPDATE_MANAGERS) return ms;
  const merged = new Set<Managed>();
  const buckets = new Map<string, Managed>();
  let count = updates.length;
  for (const m of updates) {
    if (count <= MAX_UPDATE_MANAGERS) break;
    const v = m.apiVersion ?? '';
    const bucket = buckets.get(v);
    if (!bucket) {
      buckets.set(v, { manager: 'ancient-changes', operation: 'Update', apiVersion: m.apiVersion, time: m.time, set: m.set });
    } else {
      bucket.set = union(bucket.set, m.set);
      bucket.time = m.time;
      count--;
    }
    merged.add(m);
  }
  return [...ms.filter((m) => !merged.has(m)), ...buckets.values()];
}

export interface Conflict { manager: Managed; path: string[] }

function printManager(m: Managed): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') s += ` using ${m.apiVersion ?? ''}`;
  return s;
}

/** The 409 of an apply that would change fields other managers own, worded as Kubernetes words it. */
export function conflictError(conflicts: Conflict[]): ApiError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!.manager)}: ${pathString(conflicts[0]!.path)}`;
  } else {
    const by = new Map<string, string[]>();
    for (const c of conflicts) {
      const k = printManager(c.manager);
      by.set(k, [...(by.get(k) ?? []), `- ${pathString(c.path)}`]);
    }
    const parts = [...by.keys()].sort().flatMap((k) => [`conflicts with ${k}:`, ...by.get(k)!]);
    message = `Apply failed with ${conflicts.length} conflicts: ${parts.join('\n')}`;
  }
  return new ApiError({ code: 409, reason: 'Conflict', status: 'Failure', message, details: { causes } });
}
