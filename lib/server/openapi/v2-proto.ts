// /openapi/v2 in protobuf (application/com.github.proto-openapi.spec.v2@v1.0+protobuf): the gnostic openapi_v2
// Document message, trimmed to what a definitions-only document uses, with the upstream field numbers. kubectl asks
// for this form only; it needs it to validate a `kind: List` client-side (its server-side field validation check
// never covers List). The adapter over protobufjs for this document.
import protobuf from 'protobufjs';
import type { Schema } from './definitions.ts';

/** What clients put in Accept ('@' is not valid in a media type, so the reply carries OPENAPI_V2_PROTOBUF_TYPE). */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
export const OPENAPI_V2_PROTOBUF_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

const PROTO = `
syntax = "proto3";
package openapi.v2;
message Document { string swagger = 1; Info info = 2; Paths paths = 8; Definitions definitions = 9; }
message Info { string title = 1; string version = 2; }
message Paths { repeated NamedAny vendor_extension = 1; }
message Definitions { repeated NamedSchema additional_properties = 1; }
message NamedSchema { string name = 1; Schema value = 2; }
message Any { string yaml = 2; }
message NamedAny { string name = 1; Any value = 2; }
message AdditionalPropertiesItem { oneof oneof { Schema schema = 1; bool boolean = 2; } }
message TypeItem { repeated string value = 1; }
message ItemsItem { repeated Schema schema = 1; }
message Properties { repeated NamedSchema additional_properties = 1; }
message Schema {
  string _ref = 1; string format = 2; string title = 3; string description = 4; Any default = 5;
  double multiple_of = 6; double maximum = 7; bool exclusive_maximum = 8; double minimum = 9; bool exclusive_minimum = 10;
  int64 max_length = 11; int64 min_length = 12; string pattern = 13; int64 max_items = 14; int64 min_items = 15;
  bool unique_items = 16; int64 max_properties = 17; int64 min_properties = 18; repeated string required = 19;
  repeated Any enum = 20; AdditionalPropertiesItem additional_properties = 21; TypeItem type = 22; ItemsItem items = 23;
  repeated Schema all_of = 24; Properties properties = 25; Any example = 30; repeated NamedAny vendor_extension = 31;
}
`;

let root: protobuf.Root | undefined;
const docType = () => (root ??= protobuf.parse(PROTO, { keepCase: true }).root).lookupType('openapi.v2.Document');


const SCALARS: Record<string, string> = {
  $ref: '_ref', format: 'format', title: 'title', description: 'description', multipleOf: 'multiple_of', maximum: 'maximum',
  exclusiveMaximum: 'exclusive_maximum', minimum: 'minimum', exclusiveMinimum: 'exclusive_minimum', maxLength: 'max_length',
  minLength: 'min_length', pattern: 'pattern', maxItems: 'max_items', minItems: 'min_items', uniqueItems: 'unique_items',
  maxProperties: 'max_properties', minProperties: 'min_properties',
};

const any = (v: unknown) => ({ yaml: JSON.stringify(v) }); // JSON is YAML

/** A v2 JSON schema as the proto message object (keys the message lacks, such as oneOf, are left out). */
function schemaMessage(s: Schema): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (SCALARS[k] && v !== undefined && v !== null && typeof v !== 'object') m[SCALARS[k]] = v;
    else if (k === 'default' || k === 'example') m[k] = any(v);
    else if (k === 'enum' && Array.isArray(v)) m.enum = v.map(any);
    else if (k === 'required' && Array.isArray(v)) m.required = v;
    else if (k === 'type') m.type = { value: Array.isArray(v) ? v : [v] };
    else if (k === 'items' && v && typeof v === 'object') m.items = { schema: (Array.isArray(v) ? v : [v]).map((x) => schemaMessage(x as Schema)) };
    else if (k === 'allOf' && Array.isArray(v)) m.all_of = v.map((x) => schemaMessage(x as Schema));
    else if (k === 'properties' && v && typeof v === 'object') m.properties = { additional_properties: named(v as Record<string, Schema>) };
    else if (k === 'additionalProperties') m.additional_properties = typeof v === 'boolean' ? { boolean: v } : { schema: schemaMessage(v as Schema) };
    else if (k.startsWith('x-')) ((m.vendor_extension ??= []) as unknown[]).push({ name: k, value: any(v) });
  }
  return m;
}

const named = (o: Record<string, Schema>) => Object.entries(o).map(([name, s]) => ({ name, value: schemaMessage(s) }));

/**
 * Encodes the Swagger 2.0 document as the gnostic protobuf message, one definition at a time (each is parsed from its
 * v2 JSON text, encoded and let go).
 */
export function encodeSwaggerV2(info: { title: string; version: string }, definitions: Iterable<[string, string]>): Uint8Array {
  const r = root ?? docType().root;
  const Info = r.lookupType('openapi.v2.Info');
  const Named = r.lookupType('openapi.v2.NamedSchema');
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).string('2.0');
  w.uint32((2 << 3) | 2).fork();
  Info.encode(info, w);
  w.ldelim();
  w.uint32((8 << 3) | 2).fork().ldelim(); // empty paths
  w.uint32((9 << 3) | 2).fork();
  for (const [name, text] of definitions) {
    w.uint32((1 << 3) | 2);
    Named.encodeDelimited({ name, value: schemaMessage(JSON.parse(text) as Schema) }, w);
  }
  w.ldelim();
  return w.finish();
}

/** Decodes it again (tests). */
export function decodeSwaggerV2(bytes: Uint8Array): Record<string, unknown> {
  const t = docType();
  return t.toObject(t.decode(bytes), { longs: Number, defaults: false }) as Record<string, unknown>;
}
