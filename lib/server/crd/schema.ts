// Structural-schema operations on custom resources: pruning of unknown fields, defaulting and validation against
// a CRD version's openAPIV3Schema (the subset of OpenAPI v3 that apiextensions allows).
import type { StatusCause } from '../resources/types.ts';

export interface JSONSchemaProps {
  type?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: boolean | JSONSchemaProps;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  [ext: string]: unknown;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const ROOT_KEEP = new Set(['apiVersion', 'kind', 'metadata']);

/** Drops fields the schema does not describe (unless x-kubernetes-preserve-unknown-fields). Modifies value. */
export function prune(value: unknown, schema: JSONSchemaProps | undefined, root = false): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    for (const v of value) prune(v, schema.items);
    return;
  }
  if (!isObj(value)) return;
  const props = schema.properties ?? {};
  const add = schema.additionalProperties;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = root || schema['x-kubernetes-embedded-resource'] === true;
  for (const k of Object.keys(value)) {
    if (embedded && ROOT_KEEP.has(k) && !props[k]) continue;
    if (props[k]) prune(value[k], props[k]);
    else if (isObj(add)) prune(value[k], add);
    else if (!preserve && add !== true) delete value[k];
  }
}

/** Fills schema defaults where fields are absent (or null and not nullable). Modifies value. */
export function applyDefaults(value: unknown, schema: JSONSchemaProps | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    for (const v of value) applyDefaults(v, schema.items);
    return;
  }
  if (!isObj(value)) return;
  for (const [k, p] of Object.entries(schema.properties ?? {})) {
    if (p.default !== undefined && (value[k] === undefined || (value[k] === null && !p.nullable))) value[k] = structuredClone(p.default);
    if (value[k] !== undefined) applyDefaults(value[k], p);
  }
  if (isObj(schema.additionalProperties)) {
    for (const k of Object.keys(value)) if (!schema.properties?.[k]) applyDefaults(value[k], schema.additionalProperties);
  }
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const fmt = (v: unknown) => JSON.stringify(v);
const invalid = (field: string, v: unknown, detail: string): StatusCause => ({ field, reason: 'FieldValueInvalid', message: `Invalid value: ${fmt(v)}: ${detail}` });

/** Validates value against schema; path is the dotted field path used in causes. */
export function validateSchema(value: unknown, schema: JSONSchemaProps | undefined, path: string, root = false): StatusCause[] {
  if (!schema) return [];
  const out: StatusCause[] = [];
  const where = path || '<root>';
  if (value === null) {
    if (!schema.nullable && schema.type) out.push(invalid(where, value, `${where} in body must be of type ${schema.type}: "null"`));
    return out;
  }
  const t = typeOf(value);
  if (schema['x-kubernetes-int-or-string']) {
    if (t !== 'integer' && t !== 'string') out.push(invalid(where, value, `${where} in body must be of type integer,string: ${fmt(t)}`));
  } else if (schema.type) {
    const ok = schema.type === t || (schema.type === 'number' && t === 'integer');
    if (!ok) return [invalid(where, value, `${where} in body must be of type ${schema.type}: ${fmt(t)}`)];
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    out.push({ field: where, reason: 'FieldValueNotSupported', message: `Unsupported value: ${fmt(value)}: supported values: ${schema.enum.map(fmt).join(', ')}` });
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) {
      out.push(invalid(where, value, `${where} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`));
    }
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)) {
      out.push(invalid(where, value, `${where} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`));
    }
    if (schema.multipleOf && value % schema.multipleOf !== 0) out.push(invalid(where, value, `${where} in body should be a multiple of ${schema.multipleOf}`));
  }
  if (typeof value === 'string') {
    const len = [...value].length;
    if (schema.minLength !== undefined && len < schema.minLength) out.push(invalid(where, value, `${where} in body should be at least ${schema.minLength} chars long`));
    if (schema.maxLength !== undefined && len > schema.maxLength) out.push({ field: where, reason: 'FieldValueTooLong', message: `Too long: may not be more than ${schema.maxLength} bytes` });
    if (schema.pattern) {
      let re: RegExp | undefined;
      try { re = new RegExp(schema.pattern, 'u'); } catch { re = undefined; }
      if (re && !re.test(value)) out.push(invalid(where, value, `${where} in body should match '${schema.pattern}'`));
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) out.push(invalid(where, value.length, `${where} in body should have at least ${schema.minItems} items`));
    if (schema.maxItems !== undefined && value.length > schema.maxItems) out.push({ field: where, reason: 'FieldValueTooMany', message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
    value.forEach((v, i) => out.push(...validateSchema(v, schema.items, `${path}[${i}]`)));
  }
  if (isObj(value)) {
    for (const r of schema.required ?? []) {
      if (value[r] === undefined) out.push({ field: path ? `${path}.${r}` : r, reason: 'FieldValueRequired', message: 'Required value' });
    }
    const n = Object.keys(value).length;
    if (schema.minProperties !== undefined && n < schema.minProperties) out.push(invalid(where, n, `${where} in body should have at least ${schema.minProperties} properties`));
    if (schema.maxProperties !== undefined && n > schema.maxProperties) out.push(invalid(where, n, `${where} in body should have at most ${schema.maxProperties} properties`));
    for (const [k, v] of Object.entries(value)) {
      if (root && ROOT_KEEP.has(k)) continue;
      const sub = path ? `${path}.${k}` : k;
      const p = schema.properties?.[k] ?? (isObj(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (p) out.push(...validateSchema(v, p, sub));
    }
  }
  return out;
}

/** Checks the structural-schema rules that matter for serving: every node has a type (or int-or-string/preserve). */
export function structuralProblems(schema: JSONSchemaProps | undefined, path: string): StatusCause[] {
  if (!schema) return [];
  const out: StatusCause[] = [];
  const typed = schema.type || schema['x-kubernetes-int-or-string'] || schema['x-kubernetes-preserve-unknown-fields'];
  if (!typed) out.push({ field: `${path}.type`, reason: 'FieldValueRequired', message: 'Required value: must not be empty for specified object fields' });
  for (const [k, p] of Object.entries(schema.properties ?? {})) out.push(...structuralProblems(p, `${path}.properties[${k}]`));
  if (schema.items) out.push(...structuralProblems(schema.items, `${path}.items`));
  if (isObj(schema.additionalProperties)) out.push(...structuralProblems(schema.additionalProperties as JSONSchemaProps, `${path}.additionalProperties`));
  if (schema.properties && isObj(schema.additionalProperties)) out.push({ field: `${path}.additionalProperties`, reason: 'FieldValueForbidden', message: 'Forbidden: additionalProperties and properties are mutual exclusive' });
  return out;
}
