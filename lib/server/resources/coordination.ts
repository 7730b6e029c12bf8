// coordination.k8s.io/v1 Lease: node heartbeats and leader election.
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy } from './types.ts';
import { invalid, validateMeta } from './validation.ts';

export const leases: ResourceStrategy = {
  group: 'coordination.k8s.io', versions: ['v1'], kind: 'Lease', plural: 'leases', singular: 'lease', namespaced: true,
  validate(o) {
    const out = validateMeta(o);
    const s = o.spec ?? {};
    if (s.leaseDurationSeconds != null && !(Number.isInteger(s.leaseDurationSeconds) && s.leaseDurationSeconds > 0)) out.push(invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0'));
    if (s.leaseTransitions != null && !(Number.isInteger(s.leaseTransitions) && s.leaseTransitions >= 0)) out.push(invalid('spec.leaseTransitions', s.leaseTransitions, 'must be greater than or equal to 0'));
    return out;
  },
  columns: [nameColumn, column('Holder', 'string', 0, 'The holder of the lease.'), ageColumn],
  cells: (o, now) => [o.metadata.name, o.spec?.holderIdentity ?? '', age(o, now)],
};

export const coordinationStrategies: ResourceStrategy[] = [leases];
