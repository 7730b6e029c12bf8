// A compact notation for OpenAPI schemas, expanded to OpenAPI v3 objects.
//
// A definition is [description, { field: spec }]; a field spec is "TYPE[*][|description]" where * marks a required
// field and TYPE is one of
//   s string · i int32 · I int64 · n number · b boolean · t date-time · q Quantity · x IntOrString · B base64 bytes
//   o free-form object · V apiVersion · K kind · <def name> a reference ("core.Container")
//   [T  list of T;  [T@key  list merging by key (strategic merge);  [s+  list merging as a set;  a trailing ~ adds
//   retainKeys (T~ on a map field, [T@key~ on a list)
//   {T  map of string to T
// Definition names are "<prefix>.<Type>"; prefixes map to the upstream schema names (io.k8s.api.core.v1.Type...).
export type FieldSpec = string;
export type Def = [description: string, fields: Record<string, FieldSpec>];
export type DefTable = Record<string, Def>;

export type Schema = Record<string, unknown>;

export const PREFIXES: Record<string, string> = {
  meta: 'io.k8s.apimachinery.pkg.apis.meta.v1',
  core: 'io.k8s.api.core.v1',
  apps: 'io.k8s.api.apps.v1',
  batch: 'io.k8s.api.batch.v1',
  coordination: 'io.k8s.api.coordination.v1',
  networking: 'io.k8s.api.networking.v1',
  rbac: 'io.k8s.api.rbac.v1',
  policy: 'io.k8s.api.policy.v1',
  storage: 'io.k8s.api.storage.v1',
  autoscaling: 'io.k8s.api.autoscaling.v2',
  autoscalingv1: 'io.k8s.api.autoscaling.v1',
  apiextensions: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1',
};

export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.Time';

/** Upstream schema name of a short definition name. */
export function schemaName(short: string): string {
  const dot = short.indexOf('.');
  const p = PREFIXES[short.slice(0, dot)];
  if (!p) throw new Error(`unknown schema prefix in ${short}`);
  return `${p}.${short.slice(dot + 1)}`;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Schemas for the scalar-ish shared types. */
export const builtinScalars: Record<string, Schema> = {
  [QUANTITY]: { description: 'A fixed-point number with a suffix, e.g. 100m, 1Gi, 0.5.', oneOf: [{ type: 'string' }, { type: 'number' }] },
  [INT_OR_STRING]: { description: 'An int32 or a string.', 'x-kubernetes-int-or-string': true },
  [TIME]: { description: 'RFC 3339 date and time, serialized with seconds precision.', type: 'string', format: 'date-time' },
};

function typeSchema(t: string, refs: Set<string>): Schema {
  switch (t) {
    case 's': case 'V': case 'K': return { type: 'string' };
    case 'i': return { type: 'integer', format: 'int32' };
    case 'I': return { type: 'integer', format: 'int64' };
    case 'n': return { type: 'number', format: 'double' };
    case 'b': return { type: 'boolean' };
    case 'B': return { type: 'string', format: 'byte' };
    case 'o': return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    case 't': refs.add(TIME); return { allOf: [ref(TIME)] };
    case 'q': refs.add(QUANTITY); return { allOf: [ref(QUANTITY)] };
    case 'x': refs.add(INT_OR_STRING); return { allOf: [ref(INT_OR_STRING)] };
  }
  const name = schemaName(t);
  refs.add(name);
  return { allOf: [ref(name)] };
}

const PLAIN_DESC: Record<string, string> = {
  apiVersion: 'APIVersion defines the versioned schema of this representation of an object.',
  kind: 'Kind is a string value representing the REST resource this object represents.',
  metadata: "Standard object's metadata.",
};

/** Expands one field spec. refs collects the schema names it references. */
export function fieldSchema(name: string, spec: FieldSpec, refs: Set<string>): { schema: Schema; required: boolean } {
  const bar = spec.indexOf('|');
  let t = bar >= 0 ? spec.slice(0, bar) : spec;
  const description = bar >= 0 ? spec.slice(bar + 1) : PLAIN_DESC[name];
  const required = t.endsWith('*');
  if (required) t = t.slice(0, -1);
  const retainKeys = t.endsWith('~');
  if (retainKeys) t = t.slice(0, -1);
  let schema: Schema;
  if (t.startsWith('[')) {
    let item = t.slice(1);
    const ext: Schema = {};
    if (item.endsWith('+')) {
      item = item.slice(0, -1);
      Object.assign(ext, { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' });
    }
    const at = item.indexOf('@');
    if (at >= 0) {
      const key = item.slice(at + 1);
      item = item.slice(0, at);
      Object.assign(ext, { 'x-kubernetes-patch-merge-key': key, 'x-kubernetes-patch-strategy': retainKeys ? 'merge,retainKeys' : 'merge', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': [key] });
    }
    const items = typeSchema(item, refs);
    schema = { type: 'array', items: items.allOf ? (items.allOf as Schema[])[0] : items, ...ext };
  } else if (t.startsWith('{')) {
    const v = typeSchema(t.slice(1), refs);
    schema = { type: 'object', additionalProperties: v.allOf ? (v.allOf as Schema[])[0] : v };
  } else {
    schema = typeSchema(t, refs);
    if (retainKeys) schema['x-kubernetes-patch-strategy'] = 'retainKeys';
  }
  if (description) schema = { description, ...schema };
  return { schema, required };
}

/** Expands a definition into an OpenAPI object schema. */
export function defSchema(def: Def, refs: Set<string>): Schema {
  const [description, fields] = def;
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [name, spec] of Object.entries(fields)) {
    const f = fieldSchema(name, spec, refs);
    properties[name] = f.schema;
    if (f.required) required.push(name);
  }
  return { description, type: 'object', properties, ...(required.length ? { required } : {}) };
}
