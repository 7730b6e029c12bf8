// Validation helpers producing 422 causes with Kubernetes' wording.
import type { KubeObject } from '../../client/types.ts';
import type { StatusCause } from './types.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_MSG = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

export function invalid(field: string, value: unknown, detail: string): StatusCause {
  return { field, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}` };
}
export function required(field: string, detail = ''): StatusCause {
  return { field, reason: 'FieldValueRequired', message: `Required value${detail ? ': ' + detail : ''}` };
}
export function notSupported(field: string, value: unknown, allowed: string[]): StatusCause {
  return { field, reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(', ')}` };
}
export function forbidden(field: string, detail: string): StatusCause {
  return { field, reason: 'FieldValueForbidden', message: `Forbidden: ${detail}` };
}
export function duplicate(field: string, value: unknown): StatusCause {
  return { field, reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(value)}` };
}

export function dns1123Label(field: string, v: unknown): StatusCause[] {
  if (typeof v !== 'string' || !v) return [required(field)];
  const out: StatusCause[] = [];
  if (v.length > 63) out.push(invalid(field, v, 'must be no more than 63 characters'));
  if (!DNS1123_LABEL.test(v)) out.push(invalid(field, v, LABEL_MSG));
  return out;
}
export function dns1123Subdomain(field: string, v: unknown): StatusCause[] {
  if (typeof v !== 'string' || !v) return [required(field)];
  const out: StatusCause[] = [];
  if (v.length > 253) out.push(invalid(field, v, 'must be no more than 253 characters'));
  if (!DNS1123_SUBDOMAIN.test(v)) out.push(invalid(field, v, SUBDOMAIN_MSG));
  return out;
}
export function dns1035Label(field: string, v: unknown): StatusCause[] {
  if (typeof v !== 'string' || !v) return [required(field)];
  const out: StatusCause[] = [];
  if (v.length > 63) out.push(invalid(field, v, 'must be no more than 63 characters'));
  if (!DNS1035_LABEL.test(v)) out.push(invalid(field, v, DNS1035_MSG));
  return out;
}

/** Field must be unchanged between old and new (compared as JSON). */
export function immutable(field: string, value: unknown, old: unknown): StatusCause[] {
  if (JSON.stringify(value) === JSON.stringify(old)) return [];
  return [{ field, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: field is immutable` }];
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Label/annotation key: optional DNS subdomain prefix + '/' + name of at most 63 characters. */
export function qualifiedName(field: string, key: string): StatusCause[] {
  const parts = key.split('/');
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  const out: StatusCause[] = [];
  if (parts.length > 2) return [invalid(field, key, "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character with an optional DNS subdomain prefix and '/'")];
  if (parts.length === 2 && (!parts[0] || !DNS1123_SUBDOMAIN.test(parts[0]))) out.push(invalid(field, key, 'prefix part ' + SUBDOMAIN_MSG));
  if (!name || name.length > 63 || !QUALIFIED_NAME.test(name)) out.push(invalid(field, key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') and be no more than 63 characters"));
  return out;
}

/** Common metadata checks: name (by the given rule), labels, annotations. */
export function validateMeta(obj: KubeObject, nameRule: (field: string, v: unknown) => StatusCause[] = dns1123Subdomain): StatusCause[] {
  const m = obj.metadata ?? {};
  const out: StatusCause[] = [];
  out.push(...nameRule('metadata.name', m.name));
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    out.push(...qualifiedName('metadata.labels', k));
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
      out.push(invalid('metadata.labels', v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
    }
  }
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    out.push(...qualifiedName('metadata.annotations', k));
    if (typeof v !== 'string') out.push(invalid(`metadata.annotations`, v, 'must be a string'));
  }
  return out;
}

/** Base64 (standard alphabet, padded) as Secret.data requires. */
export function isBase64(s: unknown): boolean {
  return typeof s === 'string' && s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);
}
