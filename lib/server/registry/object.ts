// Storage keys, value encoding and small object helpers shared by the registry files.
import type { KubeObject } from '../../client/types.ts';
import type { KeyValue } from '../../store/types.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { apiVersionOf } from '../resources/types.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** /registry/<group/>resource/ — the prefix of every object of a resource (all namespaces). */
export function resourcePrefix(s: ResourceStrategy): string {
  const group = s.storedAs ? s.storedAs.group : s.group;
  return group ? `/registry/${group}/${s.plural}/` : `/registry/${s.plural}/`;
}

/** Prefix of a list: one namespace, or all of them. */
export function listPrefix(s: ResourceStrategy, namespace?: string): string {
  return s.namespaced && namespace ? `${resourcePrefix(s)}${namespace}/` : resourcePrefix(s);
}

export function objectKey(s: ResourceStrategy, namespace: string | undefined, name: string): string {
  return s.namespaced ? `${resourcePrefix(s)}${namespace ?? ''}/${name}` : `${resourcePrefix(s)}${name}`;
}

/** Stored form: the object without resourceVersion (the store's mod revision is the resourceVersion). */
export function encodeObject(obj: KubeObject): Uint8Array {
  const { resourceVersion, ...meta } = obj.metadata;
  void resourceVersion;
  return enc.encode(JSON.stringify({ ...obj, metadata: meta }));
}

export function decodeObject(kv: KeyValue, revision = kv.modRevision): KubeObject {
  const obj = JSON.parse(dec.decode(kv.value)) as KubeObject;
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(revision);
  return obj;
}

/** The object as served at `version` (storage is the strategy's first version). */
export function toVersion(s: ResourceStrategy, obj: KubeObject, version: string | undefined): KubeObject {
  if (s.storedAs && s.convert) return s.convert(obj, version ?? s.versions[0]!);
  if (!version || version === s.versions[0]) return obj;
  if (s.convert) return s.convert(obj, version);
  obj.apiVersion = apiVersionOf(s.group, version);
  return obj;
}

/** JSON with object keys sorted: equality of objects regardless of key order. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(val).sort()) out[k] = (val as Record<string, unknown>)[k];
      return out;
    }
    return val;
  });
}

/** Everything but metadata, status, apiVersion, kind: what a generation bump tracks. */
export function specPart(obj: KubeObject): string {
  const { metadata, status, apiVersion, kind, ...rest } = obj;
  void metadata; void status; void apiVersion; void kind;
  return canonical(rest);
}

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

const GEN_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export function generateSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += GEN_ALPHABET[Math.floor(Math.random() * GEN_ALPHABET.length)];
  return s;
}

/** Reads a dotted path ('spec.replicas'). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (!cur[p] || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}
