// Builds the OpenAPI v3 documents (one per group-version) and the v3 index from the served strategies. kubectl
// needs per kind: a PATCH operation carrying x-kubernetes-group-version-kind (one object) and a fieldValidation query
// parameter (apply's server-side validation), and a components.schemas entry whose x-kubernetes-group-version-kind
// is a list (explain).
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { VERSION } from '../../config.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { fullDefinitions, structureDefinitions, type Definitions, type Schema } from './definitions.ts';

const REF = '#/components/schemas/';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** A strategy may carry its own schema (custom resources: the CRD's openAPIV3Schema per version). */
export interface StrategyWithSchema {
  openAPISchema?: Schema | ((version: string) => Schema | undefined);
}

export interface GroupVersionDoc {
  /** 'api/v1' or 'apis/apps/v1'. */
  path: string;
  /** The document, gzip-compressed (kept this way; served as is to clients accepting gzip). */
  gz: Buffer;
  /** The document as JSON text (decompressed on each access). */
  readonly body: string;
  hash: string;
}

export function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Schema name of a kind: upstream names for built-in kinds, reversed group for others (com.example.v1.Widget). */
export function kindSchemaName(group: string, version: string, kind: string, defs: Definitions = structureDefinitions()): string {
  const known = defs.kinds[`${group}/${version}/${kind}`];
  if (known) return known;
  if (group === '') return `io.k8s.api.core.${version}.${kind}`;
  if (!group.includes('.') || group.endsWith('.k8s.io')) return `io.k8s.api.${group.split('.')[0]}.${version}.${kind}`;
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

/** Copies the named schemas and everything they reference from defs into out. */
export function closure(roots: string[], defs: Definitions, out: Record<string, Schema>): void {
  const todo = [...roots];
  while (todo.length) {
    const name = todo.pop()!;
    if (out[name] || !defs.schemas[name]) continue;
    out[name] = defs.schemas[name];
    for (const m of JSON.stringify(defs.schemas[name]).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) if (!out[m[1]!]) todo.push(m[1]!);
  }
}

const STD = {
  apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources' },
  kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds' },
  metadata: { allOf: [{ $ref: REF + OBJECT_META }], description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata" },
};

/** The custom schema of a strategy for a version (CRDs), if any. */
export function ownSchema(s: ResourceStrategy, version: string): Schema | undefined {
  const own = (s as StrategyWithSchema).openAPISchema;
  return typeof own === 'function' ? own(version) : own;
}

function kindSchema(s: ResourceStrategy, version: string, schemas: Record<string, Schema>, defs: Definitions): string {
  const name = kindSchemaName(s.group, version, s.kind, defs);
  const gvk = [{ group: s.group, kind: s.kind, version }];
  const custom = ownSchema(s, version);
  if (custom) {
    const props = { ...(custom.properties as Record<string, Schema> | undefined) };
    props.apiVersion ??= STD.apiVersion;
    props.kind ??= STD.kind;
    props.metadata = STD.metadata;
    closure([OBJECT_META], defs, schemas);
    schemas[name] = { ...custom, type: 'object', properties: props, 'x-kubernetes-group-version-kind': gvk };
    return name;
  }
  closure([name, OBJECT_META], defs, schemas);
  if (!schemas[name]) {
    schemas[name] = {
      description: `${s.kind} (${s.group || 'core'}/${version}).`,
      type: 'object',
      properties: { ...STD },
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

function gvDoc(path: string, text: string): GroupVersionDoc {
  const gz = gzipSync(text);
  return { path, gz, hash: createHash('sha512').update(text).digest('hex').toUpperCase().slice(0, 64), get body() { return gunzipSync(gz).toString('utf8'); } };
}

/** One OpenAPI v3 document per served group-version (the full definitions are read once and let go). */
export function buildDocuments(strategies: readonly ResourceStrategy[]): GroupVersionDoc[] {
  const defs = fullDefinitions();
  const byGv = new Map<string, { paths: Record<string, Schema>; schemas: Record<string, Schema> }>();
  for (const s of strategies) {
    for (const version of s.versions) {
      const path = gvPath(s.group, version);
      let doc = byGv.get(path);
      if (!doc) byGv.set(path, (doc = { paths: {}, schemas: {} }));
      const schema = kindSchema(s, version, doc.schemas, defs);
      Object.assign(doc.paths, operations(s, version, schema));
    }
  }
  return [...byGv].map(([path, d]) => gvDoc(path, JSON.stringify({
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: VERSION.gitVersion },
    paths: d.paths,
    components: { schemas: sortKeys(d.schemas) },
  })));
}

/** The /openapi/v3 index. */
export function indexDocument(docs: GroupVersionDoc[]): string {
  return JSON.stringify({ paths: Object.fromEntries(docs.map((d) => [d.path, { serverRelativeURL: `/openapi/v3/${d.path}?hash=${d.hash}` }])) });
}

/** A Swagger 2.0 rendering of the same schemas (definitions only, with the kinds' GVK extensions). */
export function swaggerV2Object(docs: GroupVersionDoc[]): Schema {
  const definitions: Record<string, Schema> = {};
  for (const d of docs) Object.assign(definitions, (JSON.parse(d.body) as { components: { schemas: Record<string, Schema> } }).components.schemas);
  return { swagger: '2.0', info: { title: 'Kubernetes', version: VERSION.gitVersion }, paths: {}, definitions: toV2Map(sortKeys(definitions)) };
}

/** v3 schema forms to v2 ones: refs under #/definitions/, a lone allOf reference becomes a $ref. */
function toV2(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const o = v as Schema;
  const all = o.allOf as Schema[] | undefined;
  if (all?.length === 1 && typeof all[0]!.$ref === 'string' && Object.keys(all[0]!).length === 1) {
    const { allOf: _, ...rest } = o;
    return toV2({ $ref: all[0]!.$ref, ...rest });
  }
  const out: Schema = {};
  const map = (m: unknown) => (m && typeof m === 'object' ? Object.fromEntries(Object.entries(m).map(([k, x]) => [k, toV2(x)])) : m);
  for (const [k, x] of Object.entries(o)) {
    if (k === '$ref' && typeof x === 'string') out[k] = x.replace(REF, '#/definitions/');
    else if (k === 'properties' || k === 'patternProperties' || k === 'definitions') out[k] = map(x);
    else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') out[k] = Array.isArray(x) ? x.map(toV2) : x;
    else if (k === 'items') out[k] = Array.isArray(x) ? x.map(toV2) : toV2(x);
    else if (k === 'additionalProperties' || k === 'not') out[k] = toV2(x);
    else out[k] = x;
  }
  return out;
}

/** Converts a definitions map. */
function toV2Map(m: Record<string, Schema>): Record<string, Schema> {
  return Object.fromEntries(Object.entries(m).map(([k, x]) => [k, toV2(x) as Schema]));
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
