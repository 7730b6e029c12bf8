// core/v1 ConfigMap, Secret, ServiceAccount, Endpoints.
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy, StatusCause } from './types.ts';
import { invalid, isBase64, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const KEY = /^[-._a-zA-Z0-9]+$/;
function dataKeys(field: string, m: Obj | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  for (const k of Object.keys(m ?? {})) {
    if (!KEY.test(k) || k.length > 253) out.push(invalid(`${field}[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
  }
  return out;
}

/** ConfigMaps and Secrets marked immutable keep their data and the flag itself. */
function immutableGuard(obj: Obj, old: Obj, fields: string[]): StatusCause[] {
  const out: StatusCause[] = [];
  if (obj.immutable !== true) out.push({ field: 'immutable', reason: 'FieldValueForbidden', message: 'Forbidden: field is immutable when `immutable` is set' });
  for (const f of fields) {
    if (JSON.stringify(old[f] ?? {}) !== JSON.stringify(obj[f] ?? {})) out.push({ field: f, reason: 'FieldValueForbidden', message: 'Forbidden: field is immutable when `immutable` is set' });
  }
  return out;
}

const count = (...ms: (Obj | undefined)[]) => ms.reduce((n, m) => n + Object.keys(m ?? {}).length, 0);

export const configmaps: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', shortNames: ['cm'], namespaced: true,
  validate(obj, old) {
    const out = [...validateMeta(obj), ...dataKeys('data', obj.data), ...dataKeys('binaryData', obj.binaryData)];
    if (old?.immutable) out.push(...immutableGuard(obj, old, ['data', 'binaryData']));
    return out;
  },
  columns: [nameColumn, column('Data', 'string', 0, 'Number of data entries'), ageColumn],
  cells: (o, now) => [o.metadata.name, count(o.data, o.binaryData), age(o, now)],
};

export const secrets: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'Secret', plural: 'secrets', singular: 'secret', namespaced: true,
  defaults(obj) {
    obj.type ??= 'Opaque';
    if (obj.stringData) {
      obj.data = { ...obj.data };
      for (const [k, v] of Object.entries<string>(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString('base64');
      delete obj.stringData;
    }
  },
  validate(obj, old) {
    const out = [...validateMeta(obj), ...dataKeys('data', obj.data)];
    for (const [k, v] of Object.entries(obj.data ?? {})) if (!isBase64(v)) out.push(invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data'));
    if (old && old.type !== obj.type) out.push({ field: 'type', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(obj.type)}: field is immutable` });
    if (old?.immutable) out.push(...immutableGuard(obj, old, ['data']));
    return out;
  },
  columns: [nameColumn, column('Type', 'string', 0, 'The type of the secret'), column('Data', 'string', 0, 'The number of data entries'), ageColumn],
  cells: (o, now) => [o.metadata.name, o.type ?? '', count(o.data), age(o, now)],
  fieldLabels: (o) => ({ type: o.type ?? '' }),
};

export const serviceaccounts: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'ServiceAccount', plural: 'serviceaccounts', singular: 'serviceaccount', shortNames: ['sa'], namespaced: true,
  subresources: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }],
  validate: (obj) => validateMeta(obj),
  columns: [nameColumn, column('Secrets', 'string', 0, 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), ageColumn],
  cells: (o, now) => [o.metadata.name, (o.secrets ?? []).length, age(o, now)],
};

function endpointsText(o: Obj): string {
  const all: string[] = [];
  for (const s of o.subsets ?? []) {
    const ports: Obj[] = s.ports?.length ? s.ports : [{}];
    for (const a of s.addresses ?? []) for (const p of ports) all.push(p.port ? `${a.ip}:${p.port}` : a.ip);
  }
  if (!all.length) return '<none>';
  return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
}

export const endpoints: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'Endpoints', plural: 'endpoints', singular: 'endpoints', shortNames: ['ep'], namespaced: true,
  validate: (obj) => validateMeta(obj),
  columns: [nameColumn, column('Endpoints', 'string', 0, 'Endpoints is the list of endpoints.'), ageColumn],
  cells: (o, now) => [o.metadata.name, endpointsText(o), age(o, now)],
};

export const coreConfig: ResourceStrategy[] = [configmaps, secrets, serviceaccounts, endpoints];
