// apps/v1: Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision. Defaults follow the upstream
// SetDefaults_*; validation covers what users hit (selector vs template labels, pod template, replicas).
import type { KubeObject } from '../../client/types.ts';
import { formatLabelSelector, fromLabelSelectorObject, matchLabels } from '../registry/selectors.ts';
import { defaultPodSpec, dropNullTimestamp, validatePodSpec } from './pods.ts';
import { age, ageColumn, column, formatLabels, nameColumn } from './table.ts';
import type { ResourceStrategy, StatusCause, SubresourceSpec } from './types.ts';
import { immutable, invalid, notSupported, required, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const statusSub: SubresourceSpec = { name: 'status', verbs: ['get', 'patch', 'update'] };
export const scaleSub: SubresourceSpec = { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] };
const scale = { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' };

export const containerNames = (o: Obj) => (o.spec?.template?.spec?.containers ?? []).map((c: Obj) => c.name).join(',');
export const containerImages = (o: Obj) => (o.spec?.template?.spec?.containers ?? []).map((c: Obj) => c.image).join(',');
export const selectorText = (sel: Obj | undefined) => {
  const s = formatLabelSelector(fromLabelSelectorObject(sel));
  return s || '<none>';
};

const percentOrInt = /^(\d+)%$/;
function intOrPercent(field: string, v: unknown): StatusCause[] {
  if (v === undefined) return [];
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? [] : [invalid(field, v, 'must be greater than or equal to 0')];
  if (typeof v === 'string' && percentOrInt.test(v)) return [];
  return [invalid(field, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
}

function nonNegative(field: string, v: unknown): StatusCause[] {
  if (v === undefined || v === null) return [];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? [] : [invalid(field, v, 'must be greater than or equal to 0')];
}

/** Template defaults shared by the workload kinds: pod spec defaults and, when metadata.labels is absent, template labels. */
export function defaultTemplate(o: Obj, copyLabels: boolean): void {
  o.spec ??= {};
  const tpl = o.spec.template;
  if (tpl) {
    tpl.metadata ??= {};
    dropNullTimestamp(tpl);
    tpl.spec ??= {};
    defaultPodSpec(tpl.spec);
  }
  for (const claim of o.spec.volumeClaimTemplates ?? []) dropNullTimestamp(claim);
  if (copyLabels && !o.metadata.labels && tpl?.metadata?.labels) o.metadata.labels = { ...tpl.metadata.labels };
}

/** Selector present, non-empty, matching the template labels; pod template valid; selector immutable on update. */
export function validateWorkload(o: Obj, old: Obj | undefined, opts: { restartAlways?: boolean } = {}): StatusCause[] {
  const out = validateMeta(o as KubeObject);
  const sel = o.spec?.selector;
  if (!sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length)) {
    out.push(required('spec.selector'));
  } else if (o.spec?.template) {
    const labels = o.spec.template.metadata?.labels ?? {};
    if (!matchLabels(fromLabelSelectorObject(sel), labels)) out.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  if (o.spec?.template || opts.restartAlways) out.push(...validatePodSpec(o.spec?.template?.spec, 'spec.template.spec'));
  const rp = o.spec?.template?.spec?.restartPolicy;
  if (opts.restartAlways && rp && rp !== 'Always') out.push(notSupported('spec.template.spec.restartPolicy', rp, ['Always']));
  out.push(...nonNegative('spec.replicas', o.spec?.replicas));
  out.push(...nonNegative('spec.minReadySeconds', o.spec?.minReadySeconds));
  out.push(...nonNegative('spec.revisionHistoryLimit', o.spec?.revisionHistoryLimit));
  if (old) out.push(...immutable('spec.selector', o.spec?.selector, old.spec?.selector));
  return out;
}

const workload: Pick<ResourceStrategy, 'namespaced' | 'subresources' | 'scale'> = { namespaced: true, subresources: [statusSub, scaleSub], scale };

export const deployments: ResourceStrategy = {
  group: 'apps', versions: ['v1'], kind: 'Deployment', plural: 'deployments', singular: 'deployment', shortNames: ['deploy'], categories: ['all'],
  ...workload,
  defaults(o) {
    defaultTemplate(o, false);
    const s = o.spec;
    s.replicas ??= 1;
    s.strategy ??= {};
    s.strategy.type ??= 'RollingUpdate';
    if (s.strategy.type === 'RollingUpdate') {
      s.strategy.rollingUpdate ??= {};
      s.strategy.rollingUpdate.maxUnavailable ??= '25%';
      s.strategy.rollingUpdate.maxSurge ??= '25%';
    }
    s.revisionHistoryLimit ??= 10;
    s.progressDeadlineSeconds ??= 600;
  },
  validate(o, old) {
    const out = validateWorkload(o, old);
    const st = o.spec?.strategy ?? {};
    if (st.type && !['RollingUpdate', 'Recreate'].includes(st.type)) out.push(notSupported('spec.strategy.type', st.type, ['Recreate', 'RollingUpdate']));
    if (st.type === 'Recreate' && st.rollingUpdate) out.push({ field: 'spec.strategy.rollingUpdate', reason: 'FieldValueForbidden', message: 'Forbidden: may not be specified when strategy `type` is \'Recreate\'' });
    const ru = st.rollingUpdate ?? {};
    out.push(...intOrPercent('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable), ...intOrPercent('spec.strategy.rollingUpdate.maxSurge', ru.maxSurge));
    if ((ru.maxUnavailable === 0 || ru.maxUnavailable === '0%') && (ru.maxSurge === 0 || ru.maxSurge === '0%')) {
      out.push(invalid('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
    const pd = o.spec?.progressDeadlineSeconds;
    if (typeof pd === 'number' && pd <= (o.spec?.minReadySeconds ?? 0)) out.push(invalid('spec.progressDeadlineSeconds', pd, 'must be greater than minReadySeconds'));
    return out;
  },
  prepareForCreate(o) {
    o.status = {};
  },
  columns: [
    nameColumn,
    column('Ready', 'string', 0, 'Number of the pod with ready state'),
    column('Up-to-date', 'string', 0, 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    column('Available', 'string', 0, 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    ageColumn,
    column('Containers', 'string', 1, 'Names of each container in the template.'),
    column('Images', 'string', 1, 'Images referenced by each container in the template.'),
    column('Selector', 'string', 1, 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.'),
  ],
  cells: (o, now) => [o.metadata.name, `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, o.status?.updatedReplicas ?? 0,
    o.status?.availableReplicas ?? 0, age(o, now), containerNames(o), containerImages(o), selectorText(o.spec?.selector)],
};

export const replicasets: ResourceStrategy = {
  group: 'apps', versions: ['v1'], kind: 'ReplicaSet', plural: 'replicasets', singular: 'replicaset', shortNames: ['rs'], categories: ['all'],
  ...workload,
  defaults(o) {
    defaultTemplate(o, false);
    o.spec.replicas ??= 1;
  },
  validate: (o, old) => validateWorkload(o, old),
  prepareForCreate(o) { o.status = { replicas: 0 }; },
  columns: [nameColumn, column('Desired', 'integer', 0, 'Number of desired pods.'), column('Current', 'integer', 0, 'Number of actual pods.'),
    column('Ready', 'integer', 0, 'Number of ready pods.'), ageColumn, column('Containers', 'string', 1, 'Names of each container in the template.'),
    column('Images', 'string', 1, 'Images referenced by each container in the template.'), column('Selector', 'string', 1, 'Label selector for pods.')],
  cells: (o, now) => [o.metadata.name, o.spec?.replicas ?? 0, o.status?.replicas ?? 0, o.status?.readyReplicas ?? 0, age(o, now),
    containerNames(o), containerImages(o), selectorText(o.spec?.selector)],
  fieldLabels: (o) => ({ 'status.replicas': String(o.status?.replicas ?? 0) }),
};

export const daemonsets: ResourceStrategy = {
  group: 'apps', versions: ['v1'], kind: 'DaemonSet', plural: 'daemonsets', singular: 'daemonset', shortNames: ['ds'], categories: ['all'],
  namespaced: true, subresources: [statusSub],
  defaults(o) {
    defaultTemplate(o, false);
    const s = o.spec;
    s.updateStrategy ??= {};
    s.updateStrategy.type ??= 'RollingUpdate';
    if (s.updateStrategy.type === 'RollingUpdate') {
      s.updateStrategy.rollingUpdate ??= {};
      s.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
      s.updateStrategy.rollingUpdate.maxSurge ??= 0;
    }
    s.revisionHistoryLimit ??= 10;
  },
  validate(o, old) {
    const out = validateWorkload(o, old, { restartAlways: true });
    const t = o.spec?.updateStrategy?.type;
    if (t && !['RollingUpdate', 'OnDelete'].includes(t)) out.push(notSupported('spec.updateStrategy.type', t, ['OnDelete', 'RollingUpdate']));
    return out;
  },
  prepareForCreate(o) { o.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }; },
  columns: [nameColumn, column('Desired', 'integer', 0, 'The total number of nodes that should be running the daemon pod.'),
    column('Current', 'integer', 0, 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
    column('Ready', 'integer', 0, 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
    column('Up-to-date', 'integer', 0, 'The total number of nodes that are running updated daemon pod'),
    column('Available', 'integer', 0, 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.'),
    column('Node Selector', 'string', 0, 'NodeSelector is a selector which must be true for the pod to fit on a node.'), ageColumn,
    column('Containers', 'string', 1, 'Names of each container in the template.'), column('Images', 'string', 1, 'Images referenced by each container in the template.'),
    column('Selector', 'string', 1, 'A label query over pods that are managed by the daemon set.')],
  cells: (o, now) => [o.metadata.name, o.status?.desiredNumberScheduled ?? 0, o.status?.currentNumberScheduled ?? 0, o.status?.numberReady ?? 0,
    o.status?.updatedNumberScheduled ?? 0, o.status?.numberAvailable ?? 0, formatLabels(o.spec?.template?.spec?.nodeSelector), age(o, now),
    containerNames(o), containerImages(o), selectorText(o.spec?.selector)],
};

export const statefulsets: ResourceStrategy = {
  group: 'apps', versions: ['v1'], kind: 'StatefulSet', plural: 'statefulsets', singular: 'statefulset', shortNames: ['sts'], categories: ['all'],
  ...workload,
  defaults(o) {
    defaultTemplate(o, false);
    const s = o.spec;
    s.replicas ??= 1;
    s.podManagementPolicy ??= 'OrderedReady';
    s.updateStrategy ??= {};
    s.updateStrategy.type ??= 'RollingUpdate';
    if (s.updateStrategy.type === 'RollingUpdate') { s.updateStrategy.rollingUpdate ??= {}; s.updateStrategy.rollingUpdate.partition ??= 0; }
    s.revisionHistoryLimit ??= 10;
    s.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
    for (const pvc of s.volumeClaimTemplates ?? []) { pvc.spec ??= {}; pvc.spec.volumeMode ??= 'Filesystem'; pvc.status ??= { phase: 'Pending' }; }
  },
  validate(o, old) {
    const out = validateWorkload(o, old, { restartAlways: true });
    const p = o.spec?.podManagementPolicy;
    if (p && !['OrderedReady', 'Parallel'].includes(p)) out.push(notSupported('spec.podManagementPolicy', p, ['OrderedReady', 'Parallel']));
    if (old) {
      const strip = (s: Obj) => { const { replicas, template, updateStrategy, persistentVolumeClaimRetentionPolicy, minReadySeconds, ordinals, revisionHistoryLimit, ...rest } = s ?? {}; void [replicas, template, updateStrategy, persistentVolumeClaimRetentionPolicy, minReadySeconds, ordinals, revisionHistoryLimit]; return rest; };
      if (JSON.stringify(strip(o.spec)) !== JSON.stringify(strip(old.spec))) {
        out.push({ field: 'spec', reason: 'FieldValueForbidden', message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden" });
      }
    }
    return out;
  },
  prepareForCreate(o) { o.status = { replicas: 0, availableReplicas: 0 }; },
  columns: [nameColumn, column('Ready', 'string', 0, 'Number of the pod with ready state'), ageColumn,
    column('Containers', 'string', 1, 'Names of each container in the template.'), column('Images', 'string', 1, 'Images referenced by each container in the template.')],
  cells: (o, now) => [o.metadata.name, `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, age(o, now), containerNames(o), containerImages(o)],
};

export const controllerrevisions: ResourceStrategy = {
  group: 'apps', versions: ['v1'], kind: 'ControllerRevision', plural: 'controllerrevisions', singular: 'controllerrevision',
  namespaced: true,
  validate(o, old) {
    const out = validateMeta(o);
    if (typeof o.revision !== 'number' || o.revision < 0) out.push(invalid('revision', o.revision, 'must be greater than or equal to 0'));
    if (old) out.push(...immutable('data', o.data, old.data));
    return out;
  },
  columns: [nameColumn, column('Controller', 'string', 0, 'Controller of the object.'), column('Revision', 'integer', 0, 'Revision of the ControllerRevision.'), ageColumn],
  cells: (o, now) => {
    const c = (o.metadata.ownerReferences ?? []).find((r) => r.controller);
    const ctrl = c ? `${c.kind.toLowerCase()}.${c.apiVersion.split('/').length > 1 ? c.apiVersion.split('/')[0] : ''}/${c.name}`.replace('./', '/') : '<none>';
    return [o.metadata.name, ctrl, o.revision ?? 0, age(o, now)];
  },
};

export const appsStrategies: ResourceStrategy[] = [deployments, replicasets, daemonsets, statefulsets, controllerrevisions];
