// coordination.k8s.io/v1 Lease: node heartbeats and leader election.
//
// A renewal (an update that changes nothing but spec.renewTime) is deferrable: the store commits it lazily (with the
// next ordinary write, or within 5 minutes), because on an idle node renewals are almost every disk write. Clients
// and watchers see it at once; a crash loses at most the last renewals, which only makes renewTime older.
import type { KubeObject } from '../../client/types.ts';
import { canonical } from '../registry/object.ts';
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy } from './types.ts';

/**
 * The Lease without what a renewal changes: spec.renewTime, and what follows it (generation, resourceVersion, the
 * time of the writer's managedFields entry).
 */
function withoutRenewal(o: KubeObject): string {
  const { resourceVersion, generation, managedFields, ...metadata } = o.metadata ?? {};
  void resourceVersion; void generation;
  const managers = Array.isArray(managedFields) ? managedFields.map((e) => ({ ...(e as Record<string, unknown>), time: undefined })) : managedFields;
  const { renewTime, ...spec } = (o.spec ?? {}) as Record<string, unknown>;
  void renewTime;
  return canonical({ ...o, metadata: { ...metadata, managedFields: managers }, spec });
}

/** True when obj differs from old only in spec.renewTime. */
export function isRenewal(obj: KubeObject, old: KubeObject): boolean {
  return withoutRenewal(obj) === withoutRenewal(old);
}
import { invalid, validateMeta } from './validation.ts';

export const leases: ResourceStrategy = {
  group: 'coordination.k8s.io', versions: ['v1'], generation: false, kind: 'Lease', plural: 'leases', singular: 'lease', namespaced: true,
  validate(o) {
    const out = validateMeta(o);
    const s = o.spec ?? {};
    if (s.leaseDurationSeconds != null && !(Number.isInteger(s.leaseDurationSeconds) && s.leaseDurationSeconds > 0)) out.push(invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0'));
    if (s.leaseTransitions != null && !(Number.isInteger(s.leaseTransitions) && s.leaseTransitions >= 0)) out.push(invalid('spec.leaseTransitions', s.leaseTransitions, 'must be greater than or equal to 0'));
    return out;
  },
  deferrable: isRenewal,
  columns: [nameColumn, column('Holder', 'string', 0, 'The holder of the lease.'), ageColumn],
  cells: (o, now) => [o.metadata.name, o.spec?.holderIdentity ?? '', age(o, now)],
};

export const coordinationStrategies: ResourceStrategy[] = [leases];
