// Server-side apply ownership: the applier's Apply entry becomes the field set of its configuration; fields it applied
// before and omits now are pruned unless another manager owns them; changing a field another manager owns is a 409
// Conflict unless forced, which moves the field to the applier. Applying the same value shares the field.
import type { KubeObject } from '../../client/types.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { apiVersionOf } from '../resources/types.ts';
import {
  compare, deepEqual, difference, intersection, isEmpty, paths, removeFields, toFieldSet, toFieldsV1, union,
  type FieldSet,
} from './field-set.ts';
import {
  conflictError, decodeManaged, encodeManaged, identity, shapesOf, trackedView,
  type Conflict, type Managed, type ManagedFieldsEntry,
} from './managed-fields.ts';
import { rfc3339 } from './object.ts';

const storageVersion = (s: ResourceStrategy) => s.storedAs?.apiVersion ?? apiVersionOf(s.group, s.versions[0]!);

export interface ApplyOptions {
  strategy: ResourceStrategy;
  /** The stored object; absent when apply creates it. */
  live?: KubeObject;
  /** live merged with the applied configuration; fields the manager no longer applies are pruned from it in place. */
  merged: KubeObject;
  applied: KubeObject;
  manager: string;
  force?: boolean;
  subresource?: string;
  now: number;
}

/**
 * Ownership after an apply: prunes from `merged` the fields `manager` applied last time, omits now and nobody else
 * owns; throws 409 (conflictError) when the apply changes fields other managers own, unless forced, which moves them
 * to the applier. Returns the new managedFields.
 */
export function applyOwnership(o: ApplyOptions): ManagedFieldsEntry[] {
  const shapes = shapesOf(o.strategy);
  const sub = o.subresource === 'status' ? 'status' : undefined;
  const liveView = trackedView(o.strategy, o.live, sub);
  let managed = decodeManaged(o.live?.metadata.managedFields) ?? [];
  if (o.live && managed.length === 0) {
    // an object nobody tracked: its current fields belong to "before-first-apply"
    const set = toFieldSet(liveView, shapes);
    if (!isEmpty(set)) managed = [{ manager: 'before-first-apply', operation: 'Update', apiVersion: storageVersion(o.strategy), set }];
  }
  const self: Managed = { manager: o.manager, operation: 'Apply', apiVersion: storageVersion(o.strategy), subresource: sub, set: toFieldSet(trackedView(o.strategy, o.applied, sub), shapes) };
  const id = identity(self);
  const prev = managed.find((e) => identity(e) === id);
  const others = managed.filter((e) => e !== prev);
  if (prev) {
    const keep = others.reduce((acc, e) => union(acc, e.set), self.set);
    removeFields(o.merged as Record<string, unknown>, prev.set, keep, shapes);
  }
  const c = compare(liveView, trackedView(o.strategy, o.merged, sub), shapes);
  const conflicts: Conflict[] = [];
  for (const e of others) for (const p of paths(intersection(e.set, c.changed))) conflicts.push({ manager: e, path: p });
  if (conflicts.length && !o.force) {
    // kubectl's own migration from client-side apply: what the last-applied annotation says, and the object still
    // holds, may be taken over by the "kubectl" manager without a conflict (as Kubernetes' lastAppliedManager does)
    const allowed = o.manager === 'kubectl' ? lastAppliedFields(o.strategy, o.live, sub) : undefined;
    const left = allowed ? conflicts.filter((c) => !isMemberOf(allowed, c.path)) : conflicts;
    if (left.length) throw conflictError(left);
  }
  const changed = !isEmpty(c.changed) || !isEmpty(c.removed);
  self.time = changed || !prev || !deepEqual(toFieldsV1(prev.set), toFieldsV1(self.set)) ? rfc3339(o.now) : prev.time;
  const rest = others.map((e) => ({ ...e, set: difference(difference(e.set, c.changed), c.removed) }));
  return encodeManaged([...rest, self]);
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The fields of the last-applied annotation whose values the live object still has. */
function lastAppliedFields(s: ResourceStrategy, live: KubeObject | undefined, sub: string | undefined): FieldSet | undefined {
  const text = live?.metadata.annotations?.[LAST_APPLIED];
  if (!text || sub) return undefined;
  let last: KubeObject;
  try {
    last = JSON.parse(text) as KubeObject;
  } catch {
    return undefined;
  }
  if (!last || typeof last !== 'object' || last.apiVersion !== live!.apiVersion) return undefined;
  const shapes = shapesOf(s);
  const lastView = trackedView(s, last);
  const c = compare(lastView, trackedView(s, live), shapes);
  return difference(difference(toFieldSet(lastView, shapes), c.changed), c.removed);
}

function isMemberOf(s: FieldSet, path: string[]): boolean {
  let cur: FieldSet | undefined = s;
  for (const p of path) cur = cur?.children.get(p);
  return !!cur?.member;
}
