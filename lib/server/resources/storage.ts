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

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const csidrivers: ResourceStrategy = {
  group: 'storage.k8s.io', versions: ['v1'], kind: 'CSIDriver', plural: 'csidrivers', singular: 'csidriver', namespaced: false,
  defaults(o) {
    const s = (o.spec ??= {});
    s.attachRequired ??= true;
    s.podInfoOnMount ??= false;
    s.storageCapacity ??= false;
    s.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
    s.requiresRepublish ??= false;
    s.seLinuxMount ??= false;
    s.volumeLifecycleModes ??= ['Persistent'];
  },
  validate(o, old) {
    const out = validateMeta(o);
    if (old) out.push(...immutable('spec.attachRequired', o.spec?.attachRequired, old.spec?.attachRequired));
    return out;
  },
  columns: [nameColumn, column('AttachRequired', 'boolean'), column('PodInfoOnMount', 'boolean'), column('StorageCapacity', 'boolean'), column('TokenRequests'),
    column('RequiresRepublish', 'boolean'), column('Modes'), ageColumn],
  cells: (o, now) => [o.metadata.name, Boolean(o.spec?.attachRequired), Boolean(o.spec?.podInfoOnMount), Boolean(o.spec?.storageCapacity),
    (o.spec?.tokenRequests ?? []).map((t: Obj) => t.audience).join(',') || '<unset>', Boolean(o.spec?.requiresRepublish), (o.spec?.volumeLifecycleModes ?? []).join(','), age(o, now)],
};

export const csinodes: ResourceStrategy = {
  group: 'storage.k8s.io', versions: ['v1'], kind: 'CSINode', plural: 'csinodes', singular: 'csinode', namespaced: false,
  columns: [nameColumn, column('Drivers', 'integer'), ageColumn],
  cells: (o, now) => [o.metadata.name, (o.spec?.drivers ?? []).length, age(o, now)],
};

export const volumeattachments: ResourceStrategy = {
  group: 'storage.k8s.io', versions: ['v1'], kind: 'VolumeAttachment', plural: 'volumeattachments', singular: 'volumeattachment', namespaced: false,
  subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }],
  validate(o, old) {
    const out = validateMeta(o);
    if (!o.spec?.attacher) out.push(required('spec.attacher'));
    if (!o.spec?.nodeName) out.push(required('spec.nodeName'));
    if (old) out.push(...immutable('spec', o.spec, old.spec));
    return out;
  },
  columns: [nameColumn, column('Attacher'), column('PV'), column('Node'), column('Attached', 'boolean'), ageColumn],
  cells: (o, now) => [o.metadata.name, o.spec?.attacher ?? '', o.spec?.source?.persistentVolumeName ?? '', o.spec?.nodeName ?? '', Boolean(o.status?.attached), age(o, now)],
};

export const storageStrategies: ResourceStrategy[] = [storageclasses, csidrivers, csinodes, volumeattachments];
