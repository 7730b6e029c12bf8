// Unknown-field detection for fieldValidation=Strict|Warn: the paths of fields an object carries that its schema
// does not describe. Kinds without a detailed schema (and free-form parts of schemas) report nothing.
import type { KubeObject } from '../../client/types.ts';
import { ApiError } from '../../client/types.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { definitions, type Schema } from './definitions.ts';
import { kindSchemaName, ownSchema } from './documents.ts';

function resolve(name: string): Schema | undefined {
  return definitions().structure(name);
}

function deref(s: Schema | undefined): Schema | undefined {
  for (let i = 0; s && i < 10; i++) {
    const ref = (s.$ref as string | undefined) ?? ((s.allOf as Schema[] | undefined)?.[0]?.$ref as string | undefined);
    if (!ref) return s;
    s = resolve(ref.replace('#/components/schemas/', ''));
  }
  return s;
}

// An object schema without properties is free-form in the built-in types (FieldsV1, RawExtension), closed in CRDs.
function walk(value: unknown, schema: Schema | undefined, path: string, out: string[], root: boolean, custom = false): void {
  const s = deref(schema);
  if (!s || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => walk(v, s.items as Schema | undefined, `${path}[${i}]`, out, false, custom));
    return;
  }
  const props = s.properties as Record<string, Schema> | undefined;
  const add = s.additionalProperties;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const sub = path ? `${path}.${k}` : k;
    if (root && (k === 'apiVersion' || k === 'kind')) continue;
    if (props?.[k]) walk(v, props[k], sub, out, false, custom);
    else if (add && typeof add === 'object') walk(v, add as Schema, sub, out, false, custom);
    else if (!preserve && add !== true && (props || (custom && s.type === 'object'))) out.push(sub);
  }
}

/** Paths ("spec.template.spec.containers[0].imagee") of fields the strategy's schema does not know. */
export function unknownFields(strategy: ResourceStrategy, obj: KubeObject, version = strategy.versions[0]!): string[] {
  const out: string[] = [];
  const custom = ownSchema(strategy, version);
  if (custom) {
    const { metadata, ...rest } = obj;
    walk(rest, custom, '', out, true, true);
    walk(metadata, { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }] }, 'metadata', out, false);
    return out;
  }
  const name = kindSchemaName(strategy.group, version, strategy.kind);
  if (!resolve(name)) return out;
  walk(obj, { $ref: `#/components/schemas/${name}` }, '', out, true);
  return out;
}

/**
 * Applies a fieldValidation mode to obj: Strict throws 400 (as kube-apiserver's strict decoding), Warn returns
 * warnings for a `Warning: 299 - "..."` header, Ignore (or absent) returns nothing.
 */
export function checkFieldValidation(mode: string | undefined, strategy: ResourceStrategy, obj: KubeObject, version?: string): string[] {
  if (!mode || mode === 'Ignore') return [];
  const unknown = unknownFields(strategy, obj, version);
  if (!unknown.length) return [];
  const msgs = unknown.map((p) => `unknown field "${p}"`);
  if (mode === 'Strict') {
    const v = version ?? strategy.versions[0]!;
    throw new ApiError({
      code: 400, reason: 'BadRequest', status: 'Failure',
      message: `${strategy.kind} in version "${v}" cannot be handled as a ${strategy.kind}: strict decoding error: ${msgs.join(', ')}`,
    });
  }
  return msgs;
}
