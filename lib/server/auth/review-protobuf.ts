// kubectl sends access and token reviews as protobuf ("k8s\0" + runtime.Unknown). A tiny wire-format reader for
// exactly these kinds (SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview,
// SelfSubjectRulesReview, SelfSubjectReview, TokenReview), so the review routes accept both protobuf and JSON.
import type { KubeObject } from '../../client/types.ts';

type Fields = Map<number, (Uint8Array | number)[]>;

function varint(b: Uint8Array, pos: { i: number }): number {
  let out = 0;
  let mul = 1;
  for (let n = 0; n < 10; n++) {
    const byte = b[pos.i++];
    if (byte === undefined) throw new Error('truncated varint');
    out += (byte & 0x7f) * mul;
    if (!(byte & 0x80)) return out;
    mul *= 128;
  }
  throw new Error('varint too long');
}

function fields(b: Uint8Array): Fields {
  const out: Fields = new Map();
  const pos = { i: 0 };
  while (pos.i < b.length) {
    const tag = varint(b, pos);
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    let v: Uint8Array | number;
    if (wire === 0) v = varint(b, pos);
    else if (wire === 2) {
      const len = varint(b, pos);
      if (pos.i + len > b.length) throw new Error('truncated field');
      v = b.subarray(pos.i, pos.i + len);
      pos.i += len;
    } else if (wire === 1) { v = 0; pos.i += 8; } else if (wire === 5) { v = 0; pos.i += 4; } else throw new Error(`unsupported wire type ${wire}`);
    const list = out.get(no) ?? [];
    list.push(v);
    out.set(no, list);
  }
  return out;
}

const dec = new TextDecoder();
const bytes = (f: Fields, no: number): Uint8Array | undefined => {
  const v = f.get(no)?.at(-1);
  return v instanceof Uint8Array ? v : undefined;
};
const str = (f: Fields, no: number): string | undefined => {
  const v = bytes(f, no);
  return v ? dec.decode(v) : undefined;
};
const strs = (f: Fields, no: number): string[] => (f.get(no) ?? []).filter((v): v is Uint8Array => v instanceof Uint8Array).map((v) => dec.decode(v));
const msg = (f: Fields, no: number): Fields | undefined => {
  const v = bytes(f, no);
  return v ? fields(v) : undefined;
};

function clean(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && !v.length)));
}

function resourceAttributes(f: Fields | undefined) {
  if (!f) return undefined;
  return clean({ namespace: str(f, 1), verb: str(f, 2), group: str(f, 3), version: str(f, 4), resource: str(f, 5), subresource: str(f, 6), name: str(f, 7) });
}

function nonResourceAttributes(f: Fields | undefined) {
  if (!f) return undefined;
  return clean({ path: str(f, 1), verb: str(f, 2) });
}

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** Decodes a protobuf review body into its JSON form; throws on anything else. */
export function decodeReview(body: Uint8Array): KubeObject {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) throw new Error('protobuf body lacks the k8s\\0 prefix');
  const unknown = fields(body.subarray(4));
  const tm = msg(unknown, 1);
  const apiVersion = tm ? str(tm, 1) : undefined;
  const kind = tm ? str(tm, 2) ?? '' : '';
  const raw = fields(bytes(unknown, 2) ?? new Uint8Array());
  const spec = msg(raw, 2);
  let s: Record<string, unknown> = {};
  switch (kind) {
    case 'SelfSubjectAccessReview':
    case 'SubjectAccessReview':
    case 'LocalSubjectAccessReview':
      if (spec) {
        const extra: Record<string, string[]> = {};
        for (const e of (spec.get(5) ?? []).filter((v): v is Uint8Array => v instanceof Uint8Array)) {
          const kv = fields(e);
          const k = str(kv, 1);
          const val = msg(kv, 2);
          if (k) extra[k] = val ? strs(val, 1) : [];
        }
        s = clean({
          resourceAttributes: resourceAttributes(msg(spec, 1)),
          nonResourceAttributes: nonResourceAttributes(msg(spec, 2)),
          user: str(spec, 3),
          groups: strs(spec, 4),
          extra: Object.keys(extra).length ? extra : undefined,
          uid: str(spec, 6),
        });
      }
      break;
    case 'SelfSubjectRulesReview':
      s = clean({ namespace: spec ? str(spec, 1) : undefined });
      break;
    case 'TokenReview':
      s = clean({ token: spec ? str(spec, 1) : undefined, audiences: spec ? strs(spec, 2) : [] });
      break;
    case 'SelfSubjectReview':
      break;
    default:
      throw new Error(`unexpected protobuf kind ${JSON.stringify(kind)}`);
  }
  return { apiVersion, kind, metadata: {}, spec: s };
}
