// rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding.
import type { KubeObject } from '../../client/types.ts';
import { ageColumn, column, nameColumn, age } from './table.ts';
import type { ColumnDefinition, ResourceStrategy, StatusCause } from './types.ts';
import { immutable, notSupported, required, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const RBAC_GROUP = 'rbac.authorization.k8s.io';
/** RBAC names are path segments: anything but '/', '%', '.' and '..'. */
function pathSegmentName(field: string, v: unknown): StatusCause[] {
  if (typeof v !== 'string' || !v) return [required(field)];
  if (v === '.' || v === '..' || /[/%]/.test(v)) return [{ field, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(v)}: may not contain '/' or '%' and may not be '.' or '..'` }];
  return [];
}

function validateRules(rules: unknown, path: string, clusterScoped: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  if (rules == null) return out;
  if (!Array.isArray(rules)) return [{ field: path, reason: 'FieldValueInvalid', message: 'Invalid value: must be a list' }];
  rules.forEach((r: Obj, i) => {
    const p = `${path}[${i}]`;
    if (!Array.isArray(r?.verbs) || r.verbs.length === 0) out.push(required(`${p}.verbs`, 'verbs must contain at least one value'));
    const nonRes = (r?.nonResourceURLs ?? []).length > 0;
    if (nonRes && !clusterScoped) out.push({ field: `${p}.nonResourceURLs`, reason: 'FieldValueInvalid', message: 'Invalid value: namespaced rules cannot apply to non-resource URLs' });
    if (nonRes && ((r.apiGroups ?? []).length || (r.resources ?? []).length)) out.push({ field: `${p}.nonResourceURLs`, reason: 'FieldValueInvalid', message: 'Invalid value: rules cannot apply to both regular resources and non-resource URLs' });
    if (!nonRes && (r?.resources ?? []).length === 0) out.push(required(`${p}.resources`, 'resource rules must supply at least one resource'));
    if (!nonRes && (r?.apiGroups ?? []).length === 0) out.push(required(`${p}.apiGroups`, 'resource rules must supply at least one api group'));
  });
  return out;
}

function validateBinding(o: Obj, old: Obj | undefined, clusterScoped: boolean): StatusCause[] {
  const out = validateMeta(o as KubeObject, pathSegmentName);
  const ref = o.roleRef;
  if (!ref) out.push(required('roleRef'));
  else {
    if (ref.apiGroup !== RBAC_GROUP) out.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
    const kinds = clusterScoped ? ['ClusterRole'] : ['Role', 'ClusterRole'];
    if (!kinds.includes(ref.kind)) out.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
    if (!ref.name) out.push(required('roleRef.name'));
  }
  (o.subjects ?? []).forEach((s: Obj, i: number) => {
    const p = `subjects[${i}]`;
    if (!['User', 'Group', 'ServiceAccount'].includes(s?.kind)) out.push(notSupported(`${p}.kind`, s?.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    if (!s?.name) out.push(required(`${p}.name`));
    if (s?.kind === 'ServiceAccount' && clusterScoped && !s.namespace) out.push(required(`${p}.namespace`));
    if (s?.kind === 'ServiceAccount' && s.apiGroup) out.push(notSupported(`${p}.apiGroup`, s.apiGroup, ['']));
  });
  if (old) out.push(...immutable('roleRef', o.roleRef, old.roleRef));
  return out;
}

function defaultSubjects(o: Obj): void {
  for (const s of o.subjects ?? []) if ((s.kind === 'User' || s.kind === 'Group') && s.apiGroup === undefined) s.apiGroup = RBAC_GROUP;
}

const createdAt: ColumnDefinition = column('Created At', 'date', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created.');
const roleCells = (o: KubeObject) => [o.metadata.name, o.metadata.creationTimestamp ?? ''];

function bindingCells(o: Obj, now: number, withNamespace: boolean): unknown[] {
  const subj: Obj[] = o.subjects ?? [];
  const pick = (k: string) => subj.filter((s) => s.kind === k).map((s) => k === 'ServiceAccount' ? `${s.namespace ?? (withNamespace ? o.metadata.namespace : '')}/${s.name}` : s.name).join(', ');
  return [o.metadata.name, `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}`, age(o as KubeObject, now), pick('User'), pick('Group'), pick('ServiceAccount')];
}
const bindingColumns: ColumnDefinition[] = [nameColumn, column('Role', 'string', 0, 'RoleRef is the Role or ClusterRole this binding refers to.'), ageColumn,
  column('Users', 'string', 1, 'Users in the binding.'), column('Groups', 'string', 1, 'Groups in the binding.'), column('ServiceAccounts', 'string', 1, 'ServiceAccounts in the binding.')];

export const roles: ResourceStrategy = {
  group: RBAC_GROUP, versions: ['v1'], generation: false, kind: 'Role', plural: 'roles', singular: 'role', namespaced: true,
  validate: (o) => [...validateMeta(o, pathSegmentName), ...validateRules(o.rules, 'rules', false)],
  columns: [nameColumn, createdAt],
  cells: roleCells,
};

export const clusterroles: ResourceStrategy = {
  group: RBAC_GROUP, versions: ['v1'], generation: false, kind: 'ClusterRole', plural: 'clusterroles', singular: 'clusterrole', namespaced: false,
  validate: (o) => [...validateMeta(o, pathSegmentName), ...validateRules(o.rules, 'rules', true)],
  columns: [nameColumn, createdAt],
  cells: roleCells,
};

export const rolebindings: ResourceStrategy = {
  group: RBAC_GROUP, versions: ['v1'], generation: false, kind: 'RoleBinding', plural: 'rolebindings', singular: 'rolebinding', namespaced: true,
  defaults: defaultSubjects,
  validate: (o, old) => validateBinding(o, old, false),
  columns: bindingColumns,
  cells: (o, now) => bindingCells(o, now, true),
};

export const clusterrolebindings: ResourceStrategy = {
  group: RBAC_GROUP, versions: ['v1'], generation: false, kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', singular: 'clusterrolebinding', namespaced: false,
  defaults: defaultSubjects,
  validate: (o, old) => validateBinding(o, old, true),
  columns: bindingColumns,
  cells: (o, now) => bindingCells(o, now, false),
};

export const rbacStrategies: ResourceStrategy[] = [roles, clusterroles, rolebindings, clusterrolebindings];
