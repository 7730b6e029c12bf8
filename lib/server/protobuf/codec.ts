// Kubernetes protobuf bodies (application/vnd.kubernetes.protobuf): "k8s\0" + runtime.Unknown{typeMeta, raw}.
// Decodes the kinds kubectl sends this way into their JSON object form; encodes the same kinds (tests, clients).
// The one adapter over protobufjs.
import protobuf from 'protobufjs';
import { ApiError } from '../../client/types.ts';
import { INLINE_FIELDS, K8S_PROTO, KINDS, POINTER_FIELDS } from './schema.ts';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = [0x6b, 0x38, 0x73, 0x00];

type Obj = Record<string, unknown>;

let root: protobuf.Root | undefined;
function types(): protobuf.Root {
  root ??= protobuf.parse(K8S_PROTO, { keepCase: true }).root;
  return root;
}
const type = (name: string): protobuf.Type => types().lookupType(`k8s.${name}`);

/** True for application/vnd.kubernetes.protobuf (parameters ignored). */
export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;
}

function unsupported(message: string): ApiError {
  return new ApiError({ code: 415, reason: 'UnsupportedMediaType', status: 'Failure', message });
}
function bad(message: string): ApiError {
  return new ApiError({ code: 400, reason: 'BadRequest', status: 'Failure', message });
}

/** Decodes a kubectl protobuf body into a JSON object (apiVersion and kind set). 415 for kinds we do not know. */
export function decodeProtobufObject(bytes: Uint8Array): Obj {
  if (bytes.length < 4 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('protobuf body lacks the k8s\\0 prefix');
  let unknown: Obj;
  try {
    unknown = type('Unknown').decode(bytes.subarray(4)) as unknown as Obj;
  } catch (e) {
    throw bad(`malformed protobuf envelope: ${(e as Error).message}`);
  }
  const tm = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  if (unknown.contentEncoding) throw unsupported(`protobuf content encoding ${String(unknown.contentEncoding)} is not supported`);
  const kind = tm.kind ?? '';
  if (!KINDS.includes(kind)) throw unsupported(`protobuf bodies are not supported for kind ${JSON.stringify(kind)}; send application/json`);
  let msg: protobuf.Message;
  try {
    msg = type(kind).decode((unknown.raw as Uint8Array | undefined) ?? new Uint8Array());
  } catch (e) {
    throw bad(`malformed protobuf ${kind}: ${(e as Error).message}`);
  }
  const body = toJson(type(kind), msg as unknown as Obj);
  return { apiVersion: tm.apiVersion, kind, ...body };
}

/** Encodes a JSON object of a supported kind into a kubectl-style protobuf body. */
export function encodeProtobufObject(obj: Obj): Uint8Array {
  const kind = String(obj.kind ?? '');
  if (!KINDS.includes(kind)) throw new Error(`cannot encode kind ${kind} as protobuf`);
  const t = type(kind);
  const raw = t.encode(t.fromObject(fromJson(t, obj))).finish();
  const env = type('Unknown');
  const inner = env.encode(env.fromObject({ typeMeta: { apiVersion: obj.apiVersion ?? '', kind }, raw, contentEncoding: '', contentType: '' })).finish();
  const out = new Uint8Array(4 + inner.length);
  out.set(MAGIC);
  out.set(inner, 4);
  return out;
}

const num = (v: unknown): number => (typeof v === 'object' && v !== null ? Number(String(v)) : Number(v));
const own = (o: Obj, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function special(typeName: string, v: Obj): unknown {
  switch (typeName) {
    case 'Time': {
      const s = num(v.seconds ?? 0), n = num(v.nanos ?? 0);
      if (s === 0 && n === 0) return undefined;
      return new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case 'IntOrString':
      return num(v.type ?? 0) === 1 ? String(v.strVal ?? '') : num(v.intVal ?? 0);
    case 'Quantity':
      return String(v.string ?? '');
    case 'FieldsV1': {
      const raw = v.Raw as Uint8Array | undefined;
      return raw?.length ? JSON.parse(Buffer.from(raw).toString('utf8')) : {};
    }
  }
  return null;
}
const SPECIAL = new Set(['Time', 'IntOrString', 'Quantity', 'FieldsV1']);

function value(field: protobuf.Field, v: unknown): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return SPECIAL.has(rt.name) ? special(rt.name, v as Obj) : toJson(rt, v as Obj);
  if (field.type === 'bytes') return Buffer.from(v as Uint8Array).toString('base64');
  if (['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64', 'int32', 'uint32', 'sint32'].includes(field.type)) return num(v);
  return v;
}

function toJson(t: protobuf.Type, msg: Obj): Obj {
  const out: Obj = {};
  for (const f of t.fieldsArray) {
    if (!own(msg, f.name) || msg[f.name] == null) continue;
    const v = msg[f.name];
    let r: unknown;
    if (f.map) {
      const m: Obj = {};
      for (const [k, x] of Object.entries(v as Obj)) m[k] = value(f, x);
      if (!Object.keys(m).length) continue;
      r = m;
    } else if (f.repeated) {
      if (!(v as unknown[]).length) continue;
      r = (v as unknown[]).map((x) => value(f, x));
    } else {
      r = value(f, v);
      if (r === undefined) continue;
      const zero = r === '' || r === 0 || r === false;
      if (zero && !POINTER_FIELDS.has(`${t.name}.${f.name}`)) continue;
    }
    if (INLINE_FIELDS.has(f.name) && typeof r === 'object' && r) Object.assign(out, r);
    else out[f.name] = r;
  }
  return out;
}

// JSON object → protobufjs fromObject input (the inverse of toJson).
function fromJson(t: protobuf.Type, obj: Obj): Obj {
  const out: Obj = {};
  for (const f of t.fieldsArray) {
    f.resolve();
    const rt = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    if (INLINE_FIELDS.has(f.name) && rt) {
      const sub = fromJson(rt, obj);
      if (Object.keys(sub).length) out[f.name] = sub;
      continue;
    }
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    const conv = (x: unknown): unknown => {
      if (rt) return rt.name in SPECIAL_ENC ? SPECIAL_ENC[rt.name]!(x) : fromJson(rt, x as Obj);
      if (f.type === 'bytes') return Buffer.from(String(x), 'base64');
      return x;
    };
    if (f.map) out[f.name] = Object.fromEntries(Object.entries(v as Obj).map(([k, x]) => [k, conv(x)]));
    else if (f.repeated) out[f.name] = (v as unknown[]).map(conv);
    else out[f.name] = conv(v);
  }
  return out;
}
const SPECIAL_ENC: Record<string, (x: unknown) => unknown> = {
  Time: (x) => ({ seconds: Math.floor(Date.parse(String(x)) / 1000), nanos: 0 }),
  IntOrString: (x) => (typeof x === 'number' ? { type: 0, intVal: x } : { type: 1, strVal: String(x) }),
  Quantity: (x) => ({ string: String(x) }),
  FieldsV1: (x) => ({ Raw: Buffer.from(JSON.stringify(x)) }),
};
