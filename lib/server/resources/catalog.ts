// The set of served resources: built-in strategies plus ones added at run time (CRDs). Discovery and routing read
// it; listeners hear about changes (discovery caches, OpenAPI).
import type { ResourceStrategy } from './types.ts';

export class ResourceCatalog {
  #byPath = new Map<string, ResourceStrategy>(); // group/version/plural
  #all: ResourceStrategy[] = [];
  #listeners = new Set<() => void>();

  constructor(strategies: ResourceStrategy[] = []) {
    for (const s of strategies) this.add(s);
  }

  add(s: ResourceStrategy): void {
    this.remove(s.group, s.plural);
    this.#all.push(s);
    for (const v of s.versions) this.#byPath.set(`${s.group}/${v}/${s.plural}`, s);
    this.#changed();
  }

  remove(group: string, plural: string): void {
    const old = this.#all.find((s) => s.group === group && s.plural === plural);
    if (!old) return;
    this.#all = this.#all.filter((s) => s !== old);
    for (const v of old.versions) this.#byPath.delete(`${group}/${v}/${plural}`);
    this.#changed();
  }

  /** The strategy serving group/version/plural, or undefined. */
  lookup(group: string, version: string, plural: string): ResourceStrategy | undefined {
    return this.#byPath.get(`${group}/${version}/${plural}`);
  }

  /** By group and plural, any version. */
  byResource(group: string, plural: string): ResourceStrategy | undefined {
    return this.#all.find((s) => s.group === group && s.plural === plural);
  }

  byKind(group: string, kind: string): ResourceStrategy | undefined {
    return this.#all.find((s) => s.group === group && s.kind === kind);
  }

  all(): readonly ResourceStrategy[] {
    return this.#all;
  }

  /** Groups with their versions, core ('') first, in registration order. */
  groups(): { group: string; versions: string[] }[] {
    const m = new Map<string, string[]>();
    for (const s of this.#all) {
      const vs = m.get(s.group) ?? [];
      for (const v of s.versions) if (!vs.includes(v)) vs.push(v);
      m.set(s.group, vs);
    }
    return [...m].map(([group, versions]) => ({ group, versions: sortVersions(versions) }));
  }

  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #changed(): void {
    for (const fn of this.#listeners) fn();
  }
}

/** Kubernetes version priority: GA > beta > alpha, higher numbers first. */
export function sortVersions(vs: string[]): string[] {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [3, 0, 0];
    const tier = m[2] === 'alpha' ? 2 : m[2] === 'beta' ? 1 : 0;
    return [tier, -Number(m[1]), -Number(m[3] ?? 0)];
  };
  return [...vs].sort((a, b) => {
    const ra = rank(a), rb = rank(b);
    return ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2] || (a < b ? -1 : 1);
  });
}
