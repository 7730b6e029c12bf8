// Builds the OpenAPI v3 documents (one per group-version) and the v3 index from the served strategies. kubectl
// needs per kind: a PATCH operation carrying x-kubernetes-group-version-kind (one object) and a fieldValidation query
// parameter (apply's server-side validation), and a components.schemas entry whose x-kubernetes-group-version-kind
// is a list (explain).
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { VERSION } from '../../config.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { definitions, type DefinitionStore, type Schema } from './definitions.ts';

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
export function kindSchemaName(group: string, version: string, kind: string, defs: DefinitionStore = definitions()): string {
  const known = defs.kinds[`${group}/${version}/${kind}`];
  if (known) return known;
  if (group === '') return `io.k8s.api.core.${version}.${kind}`;
  if (!group.includes('.') || group.endsWith('.k8s.io')) return `io.k8s.api.${group.split('.')[0]}.${version}.${kind}`;
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
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

/** Adds the kind's schema (and what it references) to schemas, as JSON texts; returns its name. */
function kindSchema(s: ResourceStrategy, version: string, schemas: Map<string, string>, defs: DefinitionStore): string {
  const name = kindSchemaName(s.group, version, s.kind, defs);
  const gvk = [{ group: s.group, kind: s.kind, version }];
  const custom = ownSchema(s, version);
  const add = (names: string[]) => { for (const n of defs.closure(names)) schemas.set(n, defs.text(n)!); };
  if (custom) {
    const props = { ...(custom.properties as Record<string, Schema> | undefined) };
    props.apiVersion ??= STD.apiVersion;
    props.kind ??= STD.kind;
    props.metadata = STD.metadata;
    add([OBJECT_META]);
    schemas.set(name, JSON.stringify({ ...custom, type: 'object', properties: props, 'x-kubernetes-group-version-kind': gvk }));
    return name;
  }
  add([name, OBJECT_META]);
  if (!defs.has(name)) {
    schemas.set(name, JSON.stringify({
      description: `${s.kind} (${s.group || 'core'}/${version}).`,
      type: 'object',
      properties: { ...STD },
      'x-kubernetes-preserve-unknown-fields': true,
      'x-kubernetes-group-version-kind': gvk,
    }));
  }
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

const objectText = (schemas: Map<string, string>) => `{${[...schemas.keys()].sort().map((n) => `${JSON.stringify(n)}:${schemas.get(n)}`).join(',')}}`;

export interface OpenApiSet {
  docs: GroupVersionDoc[];
  /** Every schema of every document, as JSON text (v3 form). */
  schemas: Map<string, string>;
}

/**
 * One OpenAPI v3 document per served group-version. Documents are put together from the schemas' JSON texts (the
 * definitions are never parsed for this) and kept gzip-compressed.
 */
export function buildOpenApi(strategies: readonly ResourceStrategy[]): OpenApiSet {
  const defs = definitions();
  const byGv = new Map<string, { paths: Record<string, Schema>; schemas: Map<string, string> }>();
  const all = new Map<string, string>();
  for (const s of strategies) {
    for (const version of s.versions) {
      const path = gvPath(s.group, version);
      let doc = byGv.get(path);
      if (!doc) byGv.set(path, (doc = { paths: {}, schemas: new Map() }));
      const schema = kindSchema(s, version, doc.schemas, defs);
      Object.assign(doc.paths, operations(s, version, schema));
    }
  }
  const info = JSON.stringify({ title: 'Kubernetes', version: VERSION.gitVersion });
  const docs = [...byGv].map(([path, d]) => {
    for (const [n, t] of d.schemas) all.set(n, t);
    return gvDoc(path, `{"openapi":"3.0.0","info":${info},"paths":${JSON.stringify(d.paths)},"components":{"schemas":${objectText(d.schemas)}}}`);
  });
  return { docs, schemas: all };
}

/** The documents alone. */
export function buildDocuments(strategies: readonly ResourceStrategy[]): GroupVersionDoc[] {
  return buildOpenApi(strategies).docs;
}

/** The /openapi/v3 index. */
export function indexDocument(docs: GroupVersionDoc[]): string {
  return JSON.stringify({ paths: Object.fromEntries(docs.map((d) => [d.path, { serverRelativeURL: `/openapi/v3/${d.path}?hash=${d.hash}` }])) });
}

/**
 * A schema's v3 JSON text in v2 form: refs under #/definitions/, a lone allOf reference becomes a $ref, and parts
 * with x-kubernetes-preserve-unknown-fields lose their type and fields (kubectl's v2 validation knows nothing of the
 * extension and would call every field it does not list unknown), as kube-apiserver publishes CRD schemas in v2.
 */
export function v2Text(v3: string): string {
  if (v3.includes('"x-kubernetes-preserve-unknown-fields":true')) v3 = JSON.stringify(openPreserved(JSON.parse(v3)));
  return v3
    .replace(/\{"allOf":\[\{"\$ref":"#\/components\/schemas\/([^"]+)"\}\]([,}])/g, '{"$ref":"#/definitions/$1"$2')
    .replaceAll('"#/components/schemas/', '"#/definitions/');
}

function openPreserved(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(openPreserved);
  if (!v || typeof v !== 'object') return v;
  const o = { ...(v as Schema) };
  if (o['x-kubernetes-preserve-unknown-fields'] === true) {
    for (const k of ['type', 'properties', 'additionalProperties', 'items', 'required']) delete o[k];
    return o;
  }
  for (const k of ['properties', 'patternProperties', 'definitions']) {
    if (o[k] && typeof o[k] === 'object') o[k] = Object.fromEntries(Object.entries(o[k] as Schema).map(([n, x]) => [n, openPreserved(x)]));
  }
  for (const k of ['items', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf']) if (o[k] && typeof o[k] === 'object') o[k] = openPreserved(o[k]);
  return o;
}

/** The Swagger 2.0 document (definitions only, with the kinds' GVK extensions) as JSON text. */
export function swaggerV2Text(schemas: Map<string, string>): string {
  const defs = [...schemas.keys()].sort().map((n) => `${JSON.stringify(n)}:${v2Text(schemas.get(n)!)}`).join(',');
  return `{"swagger":"2.0","info":${JSON.stringify(V2_INFO)},"paths":{},"definitions":{${defs}}}`;
}

export const V2_INFO = { title: 'Kubernetes', version: VERSION.gitVersion };
