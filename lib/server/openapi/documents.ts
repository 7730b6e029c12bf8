// Builds the OpenAPI v3 documents (one per group-version) and the v3 index from the served strategies. kubectl
// needs per kind: a PATCH operation carrying x-kubernetes-group-version-kind (one object) and a fieldValidation query
// parameter (apply's server-side validation), and a components.schemas entry whose x-kubernetes-group-version-kind
// is a list (explain).
import { createHash } from 'node:crypto';
import { VERSION } from '../../config.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { appsDefs, batchDefs, coreDefs, metaDefs } from './defs-core.ts';
import { apiextensionsDefs, autoscalingDefs, coordinationDefs, networkingDefs, policyDefs, rbacDefs, storageClaimDefs, storageDefs } from './defs-more.ts';
import { builtinScalars, defSchema, schemaName, type DefTable, type Schema } from './dsl.ts';

export const DEFS: DefTable = { ...metaDefs, ...coreDefs, ...appsDefs, ...batchDefs, ...storageClaimDefs, ...coordinationDefs, ...networkingDefs,
  ...rbacDefs, ...policyDefs, ...storageDefs, ...autoscalingDefs, ...apiextensionsDefs };
/** Group/version → definition prefix (dsl.ts PREFIXES). */
const GV_PREFIX: Record<string, string> = {
  '/v1': 'core', 'apps/v1': 'apps', 'batch/v1': 'batch', 'coordination.k8s.io/v1': 'coordination', 'networking.k8s.io/v1': 'networking',
  'rbac.authorization.k8s.io/v1': 'rbac', 'policy/v1': 'policy', 'storage.k8s.io/v1': 'storage', 'autoscaling/v2': 'autoscaling', 'autoscaling/v1': 'autoscalingv1',
  'apiextensions.k8s.io/v1': 'apiextensions',
};

/** A strategy may carry its own schema (custom resources: the CRD's openAPIV3Schema per version). */
export interface StrategyWithSchema {
  openAPISchema?: Schema | ((version: string) => Schema | undefined);
}

export interface GroupVersionDoc {
  /** 'api/v1' or 'apis/apps/v1'. */
  path: string;
  body: string;
  hash: string;
}

export function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Schema name of a kind: upstream names for built-in groups, reversed group for others (com.example.v1.Widget). */
export function kindSchemaName(group: string, version: string, kind: string): string {
  const prefix = GV_PREFIX[`${group}/${version}`];
  if (prefix !== undefined && DEFS[`${prefix}.${kind}`]) return schemaName(`${prefix}.${kind}`);
  if (group === '') return `io.k8s.api.core.${version}.${kind}`;
  if (!group.includes('.') || group.endsWith('.k8s.io')) return `io.k8s.api.${group.split('.')[0]}.${version}.${kind}`;
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

/** Expands short definitions reachable from the roots into schemas (by upstream name). */
function expand(roots: string[], out: Record<string, Schema>): void {
  const byName = new Map(Object.keys(DEFS).map((k) => [schemaName(k), k]));
  const todo = [...roots];
  while (todo.length) {
    const name = todo.pop()!;
    if (out[name]) continue;
    if (builtinScalars[name]) { out[name] = builtinScalars[name]!; continue; }
    const short = byName.get(name);
    if (!short) continue;
    const refs = new Set<string>();
    out[name] = defSchema(DEFS[short]!, refs);
    todo.push(...refs);
  }
}

function kindSchema(s: ResourceStrategy, version: string, schemas: Record<string, Schema>): string {
  const name = kindSchemaName(s.group, version, s.kind);
  const gvk = [{ group: s.group, kind: s.kind, version }];
  const own = (s as StrategyWithSchema).openAPISchema;
  const custom = typeof own === 'function' ? own(version) : own;
  if (custom) {
    const props = { ...(custom.properties as Record<string, Schema> | undefined) };
    props.apiVersion ??= { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' };
    props.kind ??= { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' };
    props.metadata = { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }], description: "Standard object's metadata." };
    expand(['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'], schemas);
    schemas[name] = { ...custom, type: 'object', properties: props, 'x-kubernetes-group-version-kind': gvk };
    return name;
  }
  expand([name, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'], schemas);
  if (!schemas[name]) {
    schemas[name] = {
      description: `${s.kind} (${s.group || 'core'}/${version}).`,
      type: 'object',
      properties: {
        apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
        kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
        metadata: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }], description: "Standard object's metadata." },
      },
      'x-kubernetes-preserve-unknown-fields': true,
    };
  }
  schemas[name] = { ...schemas[name], 'x-kubernetes-group-version-kind': gvk };
  return name;
}

const queryParam = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
const WRITE_PARAMS = [
  queryParam('dryRun', 'When present, modifications are not persisted. Valid value: All.'),
  queryParam('fieldManager', 'Name of the actor making the change.'),
  queryParam('fieldValidation', 'How to handle unknown or duplicate fields: Ignore, Warn or Strict.'),
];

function operations(s: ResourceStrategy, version: string, schema: string): Record<string, Schema> {
  const base = `/${gvPath(s.group, version)}${s.namespaced ? '/namespaces/{namespace}' : ''}/${s.plural}`;
  const gvk = { group: s.group, kind: s.kind, version };
  const body = { content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } }, required: true };
  const ok = { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } } } };
  const op = (action: string, verb: string, extra: Schema = {}) => ({
    operationId: `${verb}${s.kind}`, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, responses: ok, ...extra,
  });
  const patchBody = {
    // kubectl builds a strategic merge patch only when this lists its content type: never for custom resources.
    content: Object.fromEntries(['application/json-patch+json', 'application/merge-patch+json', ...(s.custom ? [] : ['application/strategic-merge-patch+json']), 'application/apply-patch+yaml'].map((ct) => [ct, { schema: { type: 'object' } }])),
    required: true,
  };
  const nsParam = s.namespaced ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } }] : [];
  return {
    [base]: {
      parameters: nsParam,
      get: op('list', 'list', { parameters: [queryParam('labelSelector', 'Label selector.'), queryParam('fieldSelector', 'Field selector.')] }),
      post: op('post', 'create', { parameters: WRITE_PARAMS, requestBody: body }),
    },
    [`${base}/{name}`]: {
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } }, ...nsParam],
      get: op('get', 'read'),
      put: op('put', 'replace', { parameters: WRITE_PARAMS, requestBody: body }),
      patch: op('patch', 'patch', { parameters: [...WRITE_PARAMS, queryParam('force', 'Force apply requests.')], requestBody: patchBody }),
      delete: op('delete', 'delete'),
    },
  };
}

/** One OpenAPI v3 document per served group-version. */
export function buildDocuments(strategies: readonly ResourceStrategy[]): GroupVersionDoc[] {
  const byGv = new Map<string, { paths: Record<string, Schema>; schemas: Record<string, Schema> }>();
  for (const s of strategies) {
    for (const version of s.versions) {
      const path = gvPath(s.group, version);
      let doc = byGv.get(path);
      if (!doc) byGv.set(path, (doc = { paths: {}, schemas: {} }));
      const schema = kindSchema(s, version, doc.schemas);
      Object.assign(doc.paths, operations(s, version, schema));
    }
  }
  return [...byGv].map(([path, d]) => {
    const body = JSON.stringify({
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: VERSION.gitVersion },
      paths: d.paths,
      components: { schemas: sortKeys(d.schemas) },
    });
    return { path, body, hash: createHash('sha512').update(body).digest('hex').toUpperCase().slice(0, 64) };
  });
}

/** The /openapi/v3 index. */
export function indexDocument(docs: GroupVersionDoc[]): string {
  return JSON.stringify({ paths: Object.fromEntries(docs.map((d) => [d.path, { serverRelativeURL: `/openapi/v3/${d.path}?hash=${d.hash}` }])) });
}

/** A Swagger 2.0 rendering of the same schemas (definitions only, plus the kinds' GVK extensions). */
export function swaggerV2(docs: GroupVersionDoc[]): string {
  const definitions: Record<string, unknown> = {};
  for (const d of docs) Object.assign(definitions, (JSON.parse(d.body) as { components: { schemas: Record<string, unknown> } }).components.schemas);
  const text = JSON.stringify({ swagger: '2.0', info: { title: 'Kubernetes', version: VERSION.gitVersion }, paths: {}, definitions: sortKeys(definitions) });
  return text.replaceAll('#/components/schemas/', '#/definitions/');
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
