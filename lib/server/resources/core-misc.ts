// core/v1 LimitRange, ResourceQuota, PersistentVolume, PersistentVolumeClaim, ReplicationController.
import { defaultPodSpec, dropNullTimestamp, validatePodSpec } from './pods.ts';
import { age, ageColumn, column, formatLabels, nameColumn } from './table.ts';
import type { ResourceStrategy } from './types.ts';
import { invalid, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const status = [{ name: 'status', verbs: ['get', 'patch', 'update'] }];

export const limitranges: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'LimitRange', plural: 'limitranges', singular: 'limitrange', shortNames: ['limits'], namespaced: true,
  validate: (o) => validateMeta(o),
  columns: [nameColumn, column('Created At', 'date', 0, 'CreationTimestamp')],
  cells: (o) => [o.metadata.name, o.metadata.creationTimestamp],
};

const quotaPairs = (hard: Obj | undefined, used: Obj | undefined, pick: (k: string) => boolean) =>
  Object.keys(hard ?? {}).filter(pick).sort().map((k) => `${k}: ${used?.[k] ?? '0'}/${hard![k]}`).join(', ');

export const resourcequotas: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'ResourceQuota', plural: 'resourcequotas', singular: 'resourcequota', shortNames: ['quota'], namespaced: true,
  subresources: status,
  validate: (o) => validateMeta(o),
  prepareForCreate(o) { o.status = {}; },
  columns: [nameColumn, ageColumn, column('Request', 'string', 0, 'Request represents a minimum amount of cpu/memory that a container may consume.'), column('Limit', 'string', 0, 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.')],
  cells: (o, now) => {
    const hard = o.status?.hard ?? o.spec?.hard; // before the quota controller fills status
    return [o.metadata.name, age(o, now), quotaPairs(hard, o.status?.used, (k) => !k.startsWith('limits.')), quotaPairs(hard, o.status?.used, (k) => k.startsWith('limits.'))];
  },
};

const modes = (m: string[] | undefined) => (m ?? []).map((x) => ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' } as Obj)[x] ?? x).join(',');

export const persistentvolumes: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'PersistentVolume', plural: 'persistentvolumes', singular: 'persistentvolume', shortNames: ['pv'], namespaced: false,
  subresources: status,
  defaults(o) {
    o.spec ??= {};
    o.spec.persistentVolumeReclaimPolicy ??= 'Retain';
    o.spec.volumeMode ??= 'Filesystem';
  },
  validate: (o) => validateMeta(o),
  prepareForCreate(o) { o.status = { phase: 'Pending' }; },
  columns: [nameColumn, column('Capacity'), column('Access Modes'), column('Reclaim Policy'), column('Status'), column('Claim'), column('StorageClass'), column('VolumeAttributesClass'), column('Reason'), ageColumn, column('VolumeMode', 'string', 1)],
  cells: (o, now) => {
    const c = o.spec?.claimRef;
    return [o.metadata.name, o.spec?.capacity?.storage ?? '', modes(o.spec?.accessModes), o.spec?.persistentVolumeReclaimPolicy ?? '', o.status?.phase ?? '',
      c ? `${c.namespace}/${c.name}` : '', o.spec?.storageClassName ?? '', o.spec?.volumeAttributesClassName || '<unset>', o.status?.reason ?? '', age(o, now), o.spec?.volumeMode ?? ''];
  },
  fieldLabels: (o) => ({ name: o.metadata.name ?? '' }),
};

export const persistentvolumeclaims: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', shortNames: ['pvc'], namespaced: true,
  subresources: status,
  defaults(o) {
    o.spec ??= {};
    o.spec.volumeMode ??= 'Filesystem';
  },
  validate(o, old) {
    const out = validateMeta(o);
    if (!(o.spec?.accessModes?.length)) out.push({ field: 'spec.accessModes', reason: 'FieldValueRequired', message: 'Required value: at least 1 access mode is required' });
    if (!o.spec?.resources?.requests?.storage && !o.spec?.dataSourceRef) out.push({ field: 'spec.resources[storage]', reason: 'FieldValueRequired', message: 'Required value' });
    if (old && old.spec?.volumeName && o.spec?.volumeName !== old.spec.volumeName) out.push(invalid('spec.volumeName', o.spec?.volumeName, 'field is immutable once set'));
    return out;
  },
  async prepareForCreate(o, ctx) {
    o.status = { phase: 'Pending' };
    // DefaultStorageClass admission: a claim without storageClassName (not "") gets the newest default class.
    if (o.spec.storageClassName === undefined || o.spec.storageClassName === null) {
      const { items } = await ctx.client.list({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' });
      const def = items.filter((c) => ['true', 'True'].includes(c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] ?? ''))
        .sort((a, b) => String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')) || String(a.metadata.name).localeCompare(String(b.metadata.name)))[0];
      if (def) o.spec.storageClassName = def.metadata.name;
    }
  },
  columns: [nameColumn, column('Status'), column('Volume'), column('Capacity'), column('Access Modes'), column('StorageClass'), column('VolumeAttributesClass'), ageColumn, column('VolumeMode', 'string', 1)],
  cells: (o, now) => [o.metadata.name, o.status?.phase ?? '', o.spec?.volumeName ?? '', o.status?.capacity?.storage ?? '', modes(o.status?.accessModes),
    o.spec?.storageClassName ?? '', o.spec?.volumeAttributesClassName || '<unset>', age(o, now), o.spec?.volumeMode ?? ''],
};

export const replicationcontrollers: ResourceStrategy = {
  group: '', versions: ['v1'], kind: 'ReplicationController', plural: 'replicationcontrollers', singular: 'replicationcontroller', shortNames: ['rc'], categories: ['all'], namespaced: true,
  subresources: [...status, { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] }],
  scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' },
  defaults(o) {
    o.spec ??= {};
    o.spec.replicas ??= 1;
    const tl = o.spec.template?.metadata?.labels;
    if (!o.spec.selector && tl) o.spec.selector = { ...tl };
    if (o.spec.template && !o.metadata.labels && tl) o.metadata.labels = { ...tl };
    dropNullTimestamp(o.spec.template);
    if (o.spec.template?.spec) defaultPodSpec(o.spec.template.spec);
  },
  validate(o) {
    const out = [...validateMeta(o), ...validatePodSpec(o.spec?.template?.spec, 'spec.template.spec')];
    const sel = o.spec?.selector ?? {};
    const tl = o.spec?.template?.metadata?.labels ?? {};
    if (Object.entries<string>(sel).some(([k, v]) => tl[k] !== v)) out.push(invalid('spec.template.metadata.labels', tl, '`selector` does not match template `labels`'));
    return out;
  },
  prepareForCreate(o) { o.status = { replicas: 0 }; },
  columns: [nameColumn, column('Desired', 'integer'), column('Current', 'integer'), column('Ready', 'integer'), ageColumn, column('Containers', 'string', 1), column('Images', 'string', 1), column('Selector', 'string', 1)],
  cells: (o, now) => [o.metadata.name, o.spec?.replicas ?? 0, o.status?.replicas ?? 0, o.status?.readyReplicas ?? 0, age(o, now),
    (o.spec?.template?.spec?.containers ?? []).map((c: Obj) => c.name).join(','), (o.spec?.template?.spec?.containers ?? []).map((c: Obj) => c.image).join(','), formatLabels(o.spec?.selector)],
  fieldLabels: (o) => ({ 'status.replicas': String(o.status?.replicas ?? 0) }),
};

/** v1 PodTemplate: a stored pod template (no controller acts on it); defaults and validation of workload templates. */
export const podtemplates: ResourceStrategy = {
  group: '', versions: ['v1'], kind: 'PodTemplate', plural: 'podtemplates', singular: 'podtemplate', namespaced: true,
  defaults(o) {
    const tpl = ((o as Obj).template ??= {});
    dropNullTimestamp(tpl);
    tpl.spec ??= {};
    defaultPodSpec(tpl.spec);
  },
  validate: (o) => [...validateMeta(o), ...validatePodSpec((o as Obj).template?.spec, 'template.spec')],
  columns: [nameColumn, column('Containers', 'string', 0, 'Names of each container in the template.'),
    column('Images', 'string', 0, 'Images referenced by each container in the template.'), column('Pod Labels', 'string', 0, 'The labels for the pod template.')],
  cells: (o) => {
    const cs: Obj[] = (o as Obj).template?.spec?.containers ?? [];
    return [o.metadata.name, cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(','), formatLabels((o as Obj).template?.metadata?.labels)];
  },
};

export const coreMisc: ResourceStrategy[] = [limitranges, resourcequotas, persistentvolumes, persistentvolumeclaims, replicationcontrollers, podtemplates];
