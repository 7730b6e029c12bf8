// storage.k8s.io/v1 StorageClass.
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy } from './types.ts';
import { immutable, notSupported, required, validateMeta } from './validation.ts';

const DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';

export const storageclasses: ResourceStrategy = {
  group: 'storage.k8s.io', versions: ['v1'], kind: 'StorageClass', plural: 'storageclasses', singular: 'storageclass', shortNames: ['sc'],
  namespaced: false,
  defaults(o) {
    o.reclaimPolicy ??= 'Delete';
    o.volumeBindingMode ??= 'Immediate';
  },
  validate(o, old) {
    const out = validateMeta(o);
    if (!o.provisioner) out.push(required('provisioner'));
    if (o.reclaimPolicy && !['Delete', 'Retain'].includes(o.reclaimPolicy)) out.push(notSupported('reclaimPolicy', o.reclaimPolicy, ['Delete', 'Retain']));
    if (o.volumeBindingMode && !['Immediate', 'WaitForFirstConsumer'].includes(o.volumeBindingMode)) out.push(notSupported('volumeBindingMode', o.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
    if (old) {
      out.push(...immutable('provisioner', o.provisioner, old.provisioner), ...immutable('parameters', o.parameters, old.parameters));
      out.push(...immutable('reclaimPolicy', o.reclaimPolicy, old.reclaimPolicy), ...immutable('volumeBindingMode', o.volumeBindingMode, old.volumeBindingMode));
    }
    return out;
  },
  columns: [nameColumn, column('Provisioner', 'string', 0, 'Indicates the type of the provisioner.'), column('ReclaimPolicy', 'string', 0, 'Indicates the type of the reclaim policy.'),
    column('VolumeBindingMode', 'string', 0, 'Indicates how PersistentVolumeClaims should be bound.'),
    column('AllowVolumeExpansion', 'string', 0, 'Indicates whether the storage class allow volume expand.'), ageColumn],
  cells: (o, now) => {
    const def = ['true', 'True'].includes(o.metadata.annotations?.[DEFAULT_CLASS] ?? '') || o.metadata.annotations?.['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
    return [def ? `${o.metadata.name} (default)` : o.metadata.name, o.provisioner ?? '', o.reclaimPolicy ?? 'Delete', o.volumeBindingMode ?? 'Immediate', Boolean(o.allowVolumeExpansion), age(o, now)];
  },
};

export const storageStrategies: ResourceStrategy[] = [storageclasses];
