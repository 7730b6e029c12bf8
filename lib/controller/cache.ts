// The informer's cache: frozen objects by key with named indexes, and the read-only Lister over it.
// Objects in the cache are deep-frozen: a controller that wants to change one must structuredClone it first.
import type { KubeObject } from '../client/types.ts';
import { matchesSelector, type LabelSelector } from './selector.ts';

export type IndexFunc = (obj: KubeObject) => string[];

/** "namespace/name" for namespaced objects, "name" for cluster-scoped ones (client-go's MetaNamespaceKeyFunc). */
export function keyOf(obj: { metadata: { name?: string; namespace?: string } }): string {
  const { name = '', namespace } = obj.metadata;
  return namespace ? `${namespace}/${name}` : name;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

export const byNamespace: IndexFunc = (o) => (o.metadata.namespace ? [o.metadata.namespace] : []);
export const byNodeName: IndexFunc = (o) => (o.spec?.nodeName ? [o.spec.nodeName as string] : []);
export const byOwnerUid: IndexFunc = (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid);

export interface Lister<T extends KubeObject = KubeObject> {
  get(name: string, namespace?: string): T | undefined;
  getByKey(key: string): T | undefined;
  /** Objects in namespace (all when absent) matching the label selector (all when absent). */
  list(namespace?: string, selector?: LabelSelector | Record<string, string>): T[];
  byIndex(index: string, value: string): T[];
}

export class Cache<T extends KubeObject = KubeObject> implements Lister<T> {
  #items = new Map<string, T>();
  #indexers = new Map<string, IndexFunc>();
  #indexes = new Map<string, Map<string, Set<string>>>();

  constructor() {
    this.addIndexer('namespace', byNamespace);
  }

  get size(): number {
    return this.#items.size;
  }

  addIndexer(name: string, fn: IndexFunc): void {
    if (this.#indexers.has(name)) return;
    this.#indexers.set(name, fn);
    const idx = new Map<string, Set<string>>();
    this.#indexes.set(name, idx);
    for (const [k, o] of this.#items) this.#indexOne(idx, fn, k, o);
  }

  #indexOne(idx: Map<string, Set<string>>, fn: IndexFunc, key: string, obj: T): void {
    for (const v of fn(obj)) {
      let s = idx.get(v);
      if (!s) idx.set(v, (s = new Set()));
      s.add(key);
    }
  }

  #unindex(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const idx = this.#indexes.get(name)!;
      for (const v of fn(obj)) {
        const s = idx.get(v);
        s?.delete(key);
        if (s?.size === 0) idx.delete(v);
      }
    }
  }

  /** Stores a (frozen) object; returns the previous one. */
  put(obj: T): T | undefined {
    deepFreeze(obj);
    const key = keyOf(obj);
    const old = this.#items.get(key);
    if (old) this.#unindex(key, old);
    this.#items.set(key, obj);
    for (const [name, fn] of this.#indexers) this.#indexOne(this.#indexes.get(name)!, fn, key, obj);
    return old;
  }

  remove(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#unindex(key, old);
    this.#items.delete(key);
    return old;
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  all(): T[] {
    return [...this.#items.values()];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#items.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(namespace?: string, selector?: LabelSelector | Record<string, string>): T[] {
    const base = namespace ? this.byIndex('namespace', namespace) : this.all();
    if (!selector) return base;
    const sel: LabelSelector = isLabelSelector(selector) ? selector : { matchLabels: selector };
    return base.filter((o) => matchesSelector(sel, o.metadata.labels));
  }

  byIndex(index: string, value: string): T[] {
    const idx = this.#indexes.get(index);
    if (!idx) throw new Error(`no index named ${index}`);
    const keys = idx.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) out.push(this.#items.get(k)!);
    return out;
  }
}

function isLabelSelector(s: LabelSelector | Record<string, string>): s is LabelSelector {
  return typeof (s as LabelSelector).matchLabels === 'object' || Array.isArray((s as LabelSelector).matchExpressions);
}
