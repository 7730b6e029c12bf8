// LIST: selectors, paging with continue tokens pinned to the first page's revision, resourceVersion semantics.
import type { KubeList, KubeObject } from '../../client/types.ts';
import { CompactedError, FutureRevisionError, type KeyValue } from '../../store/types.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { apiVersionOf } from '../resources/types.ts';
import { badRequest, expired, timeout } from './errors.ts';
import { decodeObject, listPrefix, toVersion } from './object.ts';
import type { Registry } from './registry.ts';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector, type FieldRequirement, type LabelSelector } from './selectors.ts';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  /** Served version (default: storage version). */
  version?: string;
  /**
   * Also return the items as JSON text (`ListResult.itemsJson`), taken from a cache of serialized objects keyed by
   * key and revision when possible; `items` is then empty. Only without selectors, at the storage version and for
   * resources with their own storage (otherwise ignored).
   */
  json?: boolean;
}

export type ListResult = KubeList & { itemsJson?: string[] };

/**
 * Serialized objects (with their resourceVersion) by key, valid for one mod revision: LISTs answered as JSON reuse
 * them instead of parsing and serializing every object again. One per registry; bounded in characters, oldest
 * first out. Secrets are not kept (their plaintext stays out of long-lived memory).
 */
class JsonCache {
  #entries = new Map<string, { rev: number; json: string }>();
  #chars = 0;
  readonly #max: number;
  constructor(maxChars: number) {
    this.#max = maxChars;
  }
  get(kv: KeyValue): string {
    const hit = this.#entries.get(kv.key);
    if (hit && hit.rev === kv.modRevision) {
      this.#entries.delete(kv.key); // most recently used last
      this.#entries.set(kv.key, hit);
      return hit.json;
    }
    const json = JSON.stringify(decodeObject(kv));
    if (hit) { this.#entries.delete(kv.key); this.#chars -= hit.json.length; }
    if (json.length <= this.#max / 16) {
      this.#entries.set(kv.key, { rev: kv.modRevision, json });
      this.#chars += json.length;
      for (const [k, e] of this.#entries) {
        if (this.#chars <= this.#max) break;
        this.#entries.delete(k);
        this.#chars -= e.json.length;
      }
    }
    return json;
  }
}

const MAX_CACHED_CHARS = 8 * 1024 * 1024;
const jsonCaches = new WeakMap<Registry, JsonCache>();
function jsonCache(r: Registry): JsonCache {
  let c = jsonCaches.get(r);
  if (!c) jsonCaches.set(r, (c = new JsonCache(MAX_CACHED_CHARS)));
  return c;
}

export interface Matcher {
  labels: LabelSelector;
  fields: FieldRequirement[];
  (obj: KubeObject): boolean;
}

/** Builds the object filter of a label + field selector; refuses fields the resource does not index (400). */
export function matcher(s: ResourceStrategy, labelSelector?: string, fieldSelector?: string): Matcher {
  const labels = parseLabelSelector(labelSelector);
  const fields = parseFieldSelector(fieldSelector);
  let probe: Record<string, string> = {};
  try { probe = s.fieldLabels?.({ metadata: {} }) ?? {}; } catch { probe = {}; }
  for (const f of fields) {
    if (f.field === 'metadata.name' || (f.field === 'metadata.namespace' && s.namespaced)) continue;
    if (!(f.field in probe)) throw badRequest(`field label not supported: ${f.field}`);
  }
  const fn = ((obj: KubeObject) => {
    if (labels.length && !matchLabels(labels, obj.metadata.labels)) return false;
    if (!fields.length) return true;
    let own: Record<string, string> = {};
    try { own = s.fieldLabels?.(obj) ?? {}; } catch { return false; }
    const values: Record<string, string> = { 'metadata.name': obj.metadata.name ?? '', ...own };
    if (s.namespaced) values['metadata.namespace'] = obj.metadata.namespace ?? '';
    return matchFields(fields, values);
  }) as Matcher;
  fn.labels = labels;
  fn.fields = fields;
  return fn;
}

interface ContinueToken { v: string; rv: number; start: string }

export function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start } satisfies ContinueToken)).toString('base64url');
}

function decodeContinue(tok: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(tok, 'base64url').toString()) as ContinueToken;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad token');
    return t;
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

/** Revision to read at, from resourceVersion + resourceVersionMatch (0 = current). */
function readRevision(r: Registry, o: ListOptions): number {
  const rv = o.resourceVersion;
  const match = o.resourceVersionMatch;
  if (match && !['Exact', 'NotOlderThan'].includes(match)) throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
  if (!rv) {
    if (match) throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    return 0;
  }
  if (!/^\d+$/.test(rv)) throw badRequest(`resourceVersion: Invalid value: ${JSON.stringify(rv)}: must be a non-negative integer`);
  const n = Number(rv);
  const current = r.store.currentRevision();
  if (n > current) throw timeout(`Too large resource version: ${n}, current: ${current}`);
  if (match === 'Exact') {
    if (n === 0) throw badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "0"');
    if (n < r.store.compactRevision()) throw expired(`too old resource version: ${n} (${r.store.compactRevision()})`);
    return n;
  }
  return 0;
}

export async function list(r: Registry, s: ResourceStrategy, o: ListOptions = {}): Promise<ListResult> {
  const match = matcher(s, o.labelSelector, o.fieldSelector);
  const prefix = listPrefix(s, o.namespace);
  const limit = o.limit && o.limit > 0 ? Math.floor(o.limit) : 0;
  let revision: number;
  let startKey = prefix;
  if (o.continue) {
    const t = decodeContinue(o.continue);
    if (t.start.includes('/..') || t.start.startsWith('/')) throw badRequest('continue key is not valid: start key is invalid');
    revision = t.rv;
    startKey = prefix + t.start;
  } else {
    revision = readRevision(r, o);
  }
  const items: KubeObject[] = [];
  let more = false;
  let lastKey = '';
  let remaining: number | undefined;
  const filtering = match.labels.length > 0 || match.fields.length > 0;
  // served exactly as stored: no conversion (other version, or another resource's storage) and not a Secret
  const asJson = !!o.json && !filtering && (!o.version || o.version === s.versions[0]) && !s.storedAs && s.plural !== 'secrets';
  const itemsJson: string[] = [];
  const cache = asJson ? jsonCache(r) : undefined;
  let taken = 0;
  try {
    for (;;) {
      const page = await r.store.list(prefix, { revision: revision || undefined, limit: limit ? Math.max(limit - taken, filtering ? 100 : 0) : undefined, startKey });
      revision ||= page.revision;
      let stoppedEarly = false;
      for (let i = 0; i < page.items.length; i++) {
        const kv = page.items[i]!;
        lastKey = kv.key;
        if (cache) {
          itemsJson.push(cache.get(kv));
          taken++;
        } else {
          const obj = decodeObject(kv);
          if (match(obj)) { items.push(toVersion(s, obj, o.version)); taken++; }
        }
        if (limit && taken >= limit) {
          stoppedEarly = i < page.items.length - 1 || page.more;
          if (!filtering) remaining = page.count - (i + 1);
          break;
        }
      }
      if (limit && taken >= limit) { more = stoppedEarly; break; }
      if (!page.more) break;
      startKey = lastKey + '\x00';
    }
  } catch (e) {
    if (e instanceof CompactedError) {
      if (o.continue) throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
      throw expired(`too old resource version: ${revision} (${e.compactRevision})`);
    }
    if (e instanceof FutureRevisionError) throw timeout(`Too large resource version: ${e.revision}, current: ${e.current}`);
    throw e;
  }
  const meta: KubeList['metadata'] = { resourceVersion: String(revision) };
  if (more) {
    meta.continue = encodeContinue(revision, lastKey.slice(prefix.length) + '\x00');
    if (remaining !== undefined && remaining > 0) meta.remainingItemCount = remaining;
  }
  const version = o.version ?? s.versions[0]!;
  const out: ListResult = { apiVersion: apiVersionOf(s.group, version), kind: `${s.kind}List`, metadata: meta, items };
  if (cache) out.itemsJson = itemsJson;
  return out;
}
