// core/v1 Namespace: phase Active with the 'kubernetes' finalizer; delete marks it Terminating and the namespace
// controller empties it, removes spec.finalizers through namespaces/finalize and deletes it again.
import type { KubeObject } from '../../client/types.ts';
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy } from './types.ts';
import { dns1123Label, validateMeta } from './validation.ts';

export const namespaces: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'Namespace', plural: 'namespaces', singular: 'namespace', shortNames: ['ns'],
  namespaced: false,
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: [
    { name: 'status', verbs: ['get', 'patch', 'update'] },
    { name: 'finalize', verbs: ['update'] },
  ],
  defaults(obj) {
    obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name ?? '' };
  },
  validate(obj) {
    return validateMeta(obj, dns1123Label);
  },
  prepareForCreate(obj) {
    obj.spec = { ...obj.spec, finalizers: obj.spec?.finalizers ?? ['kubernetes'] };
    obj.status = { phase: 'Active' };
  },
  prepareForUpdate(obj, old) {
    // spec.finalizers change only through the finalize subresource (the registry copies it for that one).
    obj.spec = { ...obj.spec, finalizers: old.spec?.finalizers ?? [] };
  },
  finalizersPending: (obj: KubeObject) => (obj.spec?.finalizers?.length ?? 0) > 0,
  prepareForDelete(obj) {
    obj.status = { ...obj.status, phase: 'Terminating' };
  },
  columns: [nameColumn, column('Status', 'string', 0, 'The status of the namespace'), ageColumn],
  cells: (obj, now) => [obj.metadata.name, obj.status?.phase ?? '', age(obj, now)],
  fieldLabels: (obj) => ({ 'status.phase': obj.status?.phase ?? '' }),
};
