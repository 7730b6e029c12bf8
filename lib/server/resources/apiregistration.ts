// apiregistration.k8s.io/v1 APIService: stored and served so charts that register aggregated APIs install; tsk
// does not proxy to them (its own metrics.k8s.io is served in-process).
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy } from './types.ts';
import { invalid, required, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function available(o: Obj): string {
  const c = (o.status?.conditions ?? []).find((x: Obj) => x.type === 'Available');
  if (!c) return 'Unknown';
  return c.status === 'True' ? 'True' : `${c.status} (${c.reason ?? ''})`;
}

export const apiservices: ResourceStrategy = {
  group: 'apiregistration.k8s.io', versions: ['v1'], kind: 'APIService', plural: 'apiservices', singular: 'apiservice',
  categories: ['api-extensions'], namespaced: false, subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }],
  defaults(o) {
    if (o.spec?.service) o.spec.service.port ??= 443;
  },
  validate(o) {
    const out = validateMeta(o);
    const s: Obj = o.spec ?? {};
    if (!s.version) out.push(required('spec.version'));
    if (s.version && o.metadata.name !== `${s.version}.${s.group ?? ''}`) out.push(invalid('metadata.name', o.metadata.name, `must be ${s.version}.${s.group ?? ''}`));
    if (!Number.isInteger(s.groupPriorityMinimum) || s.groupPriorityMinimum <= 0 || s.groupPriorityMinimum > 20000) out.push(invalid('spec.groupPriorityMinimum', s.groupPriorityMinimum, 'must be positive and less than 20000'));
    if (!Number.isInteger(s.versionPriority) || s.versionPriority <= 0 || s.versionPriority > 1000) out.push(invalid('spec.versionPriority', s.versionPriority, 'must be positive and less than 1000'));
    return out;
  },
  columns: [nameColumn, column('Service', 'string', 0, 'The reference to the service that hosts this API endpoint.'),
    column('Available', 'string', 0, 'Whether this service is available.'), ageColumn],
  cells: (o, now) => [o.metadata.name, o.spec?.service ? `${o.spec.service.namespace}/${o.spec.service.name}` : 'Local', available(o), age(o, now)],
};

export const apiregistrationStrategies: ResourceStrategy[] = [apiservices];
