// scheduling.k8s.io/v1 PriorityClass, with the two system classes every cluster has.
import type { KubeObject } from '../../client/types.ts';
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy } from './types.ts';
import { forbidden, immutable, invalid, notSupported, validateMeta } from './validation.ts';

const HIGHEST_USER_PRIORITY = 1_000_000_000;
const SYSTEM: Record<string, number> = { 'system-node-critical': 2_000_001_000, 'system-cluster-critical': 2_000_000_000 };

/** The built-in classes, for the bootstrap of a new cluster. */
export const systemPriorityClasses: KubeObject[] = Object.entries(SYSTEM).map(([name, value]) => ({
  apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, globalDefault: false,
  description: `Used for ${name === 'system-node-critical' ? 'system critical pods that must not be moved from their current node' : 'system critical pods that must run in the cluster, but can be moved to another node if necessary'}.`,
  preemptionPolicy: 'PreemptLowerPriority',
}));

export const priorityclasses: ResourceStrategy = {
  group: 'scheduling.k8s.io', versions: ['v1'], kind: 'PriorityClass', plural: 'priorityclasses', singular: 'priorityclass', shortNames: ['pc'], namespaced: false,
  defaults(o) {
    o.preemptionPolicy ??= 'PreemptLowerPriority';
  },
  validate(o, old) {
    const out = validateMeta(o);
    const name = o.metadata.name ?? '';
    if (typeof o.value !== 'number' || !Number.isInteger(o.value)) out.push(invalid('value', o.value, 'must be an integer'));
    else if (name.startsWith('system-')) {
      // Only the built-in classes, exactly as built in (upstream IsKnownSystemPriorityClass).
      const known = name in SYSTEM ? (o.value !== SYSTEM[name] ? `value of ${name} PriorityClass must be ${SYSTEM[name]}` : o.globalDefault ? `globalDefault of ${name} PriorityClass must be false` : undefined)
        : `${name} is not a known system priority class`;
      if (known) out.push(forbidden('metadata.name', `priority class names with 'system-' prefix are reserved for system use only. error: ${known}`));
    } else if (o.value > HIGHEST_USER_PRIORITY) out.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`));
    if (o.preemptionPolicy && !['PreemptLowerPriority', 'Never'].includes(o.preemptionPolicy)) out.push(notSupported('preemptionPolicy', o.preemptionPolicy, ['Never', 'PreemptLowerPriority']));
    if (old && o.value !== old.value) out.push(forbidden('value', 'may not be changed in an update.'));
    if (old) out.push(...immutable('preemptionPolicy', o.preemptionPolicy, old.preemptionPolicy));
    return out;
  },
  columns: [nameColumn, column('Value', 'integer', 0, 'The value of this priority class.'), column('Global-Default', 'boolean', 0, 'globalDefault specifies whether this PriorityClass should be considered as the default priority.'),
    ageColumn, column('PreemptionPolicy', 'string', 0, 'PreemptionPolicy is the Policy for preempting pods with lower priority.')],
  cells: (o, now) => [o.metadata.name, o.value ?? 0, Boolean(o.globalDefault), age(o, now), o.preemptionPolicy ?? ''],
};

export const schedulingStrategies: ResourceStrategy[] = [priorityclasses];
