// policy/v1 PodDisruptionBudget.
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy } from './types.ts';
import { invalid, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function intOrPercent(field: string, v: unknown) {
  if (v == null) return [];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return [];
  if (typeof v === 'string' && /^\d+%$/.test(v) && Number(v.slice(0, -1)) <= 100) return [];
  return [invalid(field, v, 'must be a non-negative integer or a percentage between 0% and 100%')];
}

export const poddisruptionbudgets: ResourceStrategy = {
  group: 'policy', versions: ['v1'], kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', singular: 'poddisruptionbudget', shortNames: ['pdb'],
  namespaced: true, subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }],
  validate(o) {
    const out = validateMeta(o);
    const s: Obj = o.spec ?? {};
    if (s.minAvailable != null && s.maxUnavailable != null) out.push(invalid('spec', s, 'minAvailable and maxUnavailable cannot be both set'));
    out.push(...intOrPercent('spec.minAvailable', s.minAvailable), ...intOrPercent('spec.maxUnavailable', s.maxUnavailable));
    if (s.unhealthyPodEvictionPolicy && !['IfHealthyBudget', 'AlwaysAllow'].includes(s.unhealthyPodEvictionPolicy)) {
      out.push({ field: 'spec.unhealthyPodEvictionPolicy', reason: 'FieldValueNotSupported', message: `Unsupported value: "${s.unhealthyPodEvictionPolicy}": supported values: "AlwaysAllow", "IfHealthyBudget"` });
    }
    return out;
  },
  prepareForCreate(o) {
    o.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  },
  columns: [nameColumn, column('Min Available', 'string', 0, 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'string', 0, 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'integer', 0, 'Calculated number of pods that may be disrupted at this time.'), ageColumn],
  cells: (o, now) => [o.metadata.name, o.spec?.minAvailable != null ? String(o.spec.minAvailable) : 'N/A',
    o.spec?.maxUnavailable != null ? String(o.spec.maxUnavailable) : 'N/A', o.status?.disruptionsAllowed ?? 0, age(o, now)],
};

export const policyStrategies: ResourceStrategy[] = [poddisruptionbudgets];
