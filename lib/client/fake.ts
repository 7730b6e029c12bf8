// A recording in-memory Client for unit tests: objects keyed by resource/namespace/name, a resourceVersion counter,
// watch support, and a log of every write so tests can assert the actions a reconcile took.
import {
  ApiError, type Client, type ClientWatch, type ClientWatchEvent, type DeleteOptions, type KubeList, type KubeObject,
  type ListQuery, type PatchType, type ResourceRef, type WatchQuery,
} from './types.ts';

export interface FakeAction {
  verb: 'create' | 'update' | 'patch' | 'delete' | 'createSubresource';
  resource: string;
  namespace?: string;
  name: string;
  subresource?: string;
  object?: KubeObject;
}

const refKey = (ref: ResourceRef) => (ref.group ? `${ref.group}/${ref.resource}` : ref.resource);

function matchesLabels(obj: KubeObject, selector?: string): boolean {
  if (!selector) return true;
  const labels = obj.metadata.labels ?? {};
  return selector.split(',').every((term) => {
    const t = term.trim();
    if (!t) return true;
    let m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(t);
    if (m) return m[2] === '!=' ? labels[m[1]!] !== m[3] : labels[m[1]!] === m[3];
    m = /^!(.+)$/.exec(t);
    if (m) return !(m[1]! in labels);
    return t in labels;
  });
}

function matchesFields(obj: KubeObject, selector?: string): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(term.trim());
    if (!m) return true;
    const v = m[1]!.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
    return m[2] === '!=' ? String(v ?? '') !== m[3] : String(v ?? '') === m[3];
  });
}

export class FakeClient implements Client {
  readonly actions: FakeAction[] = [];
  #objects = new Map<string, Map<string, KubeObject>>();
  #rv = 0;
  #watchers = new Set<{ ref: string; ns?: string; push: (e: ClientWatchEvent) => void }>();
  #uid = 0;

  #bucket(ref: ResourceRef): Map<string, KubeObject> {
    const k = refKey(ref);
    let b = this.#objects.get(k);
    if (!b) this.#objects.set(k, (b = new Map()));
    return b;
  }

  /** Preloads objects without recording actions. */
  seed(ref: ResourceRef, ...objs: KubeObject[]): void {
    for (const o of objs) {
      const copy = structuredClone(o);
      copy.metadata.resourceVersion = String(++this.#rv);
      copy.metadata.uid ??= `uid-${++this.#uid}`;
      copy.metadata.creationTimestamp ??= new Date().toISOString();
      this.#bucket(ref).set(`${copy.metadata.namespace ?? ''}/${copy.metadata.name}`, copy);
    }
  }

  objects<T extends KubeObject = KubeObject>(ref: ResourceRef): T[] {
    return [...this.#bucket(ref).values()].map((o) => structuredClone(o) as T);
  }

  #notFound(ref: ResourceRef, name: string): ApiError {
    return new ApiError({ code: 404, reason: 'NotFound', message: `${ref.resource} "${name}" not found`, details: { name, kind: ref.resource } });
  }

  #emit(ref: ResourceRef, type: ClientWatchEvent['type'], obj: KubeObject): void {
    for (const w of this.#watchers) {
      if (w.ref === refKey(ref) && (!w.ns || w.ns === obj.metadata.namespace)) w.push({ type, object: structuredClone(obj) });
    }
  }

  async get<T extends KubeObject>(ref: ResourceRef, name: string, namespace?: string): Promise<T> {
    const o = this.#bucket(ref).get(`${namespace ?? ''}/${name}`);
    if (!o) throw this.#notFound(ref, name);
    return structuredClone(o) as T;
  }

  async list<T extends KubeObject>(ref: ResourceRef, q: ListQuery = {}): Promise<KubeList<T>> {
    const items = [...this.#bucket(ref).values()]
      .filter((o) => (!q.namespace || o.metadata.namespace === q.namespace) && matchesLabels(o, q.labelSelector) && matchesFields(o, q.fieldSelector))
      .map((o) => structuredClone(o) as T);
    return { metadata: { resourceVersion: String(this.#rv) }, items };
  }

  async watch<T extends KubeObject>(ref: ResourceRef, q: WatchQuery = {}): Promise<ClientWatch<T>> {
    const queue: ClientWatchEvent<T>[] = [];
    let wake: (() => void) | undefined;
    let closed = false;
    const entry = {
      ref: refKey(ref),
      ns: q.namespace,
      push: (e: ClientWatchEvent) => {
        if (!matchesLabels(e.object, q.labelSelector) || !matchesFields(e.object, q.fieldSelector)) return;
        queue.push(e as ClientWatchEvent<T>);
        wake?.();
      },
    };
    this.#watchers.add(entry);
    const close = () => {
      closed = true;
      this.#watchers.delete(entry);
      wake?.();
    };
    return {
      close,
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const e = queue.shift();
            if (e) { yield e; continue; }
            if (closed) return;
            await new Promise<void>((r) => (wake = r));
          }
        } finally {
          close();
        }
      },
    };
  }

  async create<T extends KubeObject>(ref: ResourceRef, obj: T, namespace?: string): Promise<T> {
    const o = structuredClone(obj);
    o.metadata.namespace ??= namespace;
    if (!o.metadata.name && o.metadata.generateName) o.metadata.name = `${o.metadata.generateName}${(++this.#uid).toString(36).padStart(5, 'x')}`;
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (this.#bucket(ref).has(key)) throw new ApiError({ code: 409, reason: 'AlreadyExists', message: `${ref.resource} "${o.metadata.name}" already exists` });
    o.metadata.uid ??= `uid-${++this.#uid}`;
    o.metadata.resourceVersion = String(++this.#rv);
    o.metadata.creationTimestamp ??= new Date().toISOString();
    o.metadata.generation ??= 1;
    this.#bucket(ref).set(key, o);
    this.actions.push({ verb: 'create', resource: ref.resource, namespace: o.metadata.namespace, name: o.metadata.name!, object: structuredClone(o) });
    this.#emit(ref, 'ADDED', o);
    return structuredClone(o);
  }

  async update<T extends KubeObject>(ref: ResourceRef, obj: T, subresource?: string): Promise<T> {
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const cur = this.#bucket(ref).get(key);
    if (!cur) throw this.#notFound(ref, obj.metadata.name ?? '');
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== cur.metadata.resourceVersion) {
      throw new ApiError({ code: 409, reason: 'Conflict', message: `Operation cannot be fulfilled on ${ref.resource} "${obj.metadata.name}": the object has been modified; please apply your changes to the latest version and try again` });
    }
    const o = structuredClone(obj);
    if (subresource === 'status') {
      const merged = { ...structuredClone(cur), status: o.status };
      merged.metadata.resourceVersion = String(++this.#rv);
      this.#bucket(ref).set(key, merged);
      this.actions.push({ verb: 'update', resource: ref.resource, namespace: o.metadata.namespace, name: o.metadata.name!, subresource, object: structuredClone(merged) });
      this.#emit(ref, 'MODIFIED', merged);
      return structuredClone(merged) as unknown as T;
    }
    o.metadata.resourceVersion = String(++this.#rv);
    o.metadata.uid = cur.metadata.uid;
    this.#bucket(ref).set(key, o);
    this.actions.push({ verb: 'update', resource: ref.resource, namespace: o.metadata.namespace, name: o.metadata.name!, subresource, object: structuredClone(o) });
    this.#emit(ref, 'MODIFIED', o);
    return structuredClone(o);
  }

  async patch<T extends KubeObject>(ref: ResourceRef, name: string, type: PatchType, patch: unknown, opts: { namespace?: string; subresource?: string } = {}): Promise<T> {
    const key = `${opts.namespace ?? ''}/${name}`;
    const cur = this.#bucket(ref).get(key);
    if (!cur) throw this.#notFound(ref, name);
    if (type === 'json') throw new Error('FakeClient does not apply JSON patches');
    const merged = mergePatch(structuredClone(cur), patch) as KubeObject;
    merged.metadata.resourceVersion = String(++this.#rv);
    this.#bucket(ref).set(key, merged);
    this.actions.push({ verb: 'patch', resource: ref.resource, namespace: opts.namespace, name, subresource: opts.subresource, object: structuredClone(patch as KubeObject) });
    this.#emit(ref, 'MODIFIED', merged);
    return structuredClone(merged) as T;
  }

  async delete(ref: ResourceRef, name: string, namespace?: string, opts?: DeleteOptions): Promise<void> {
    void opts;
    const key = `${namespace ?? ''}/${name}`;
    const cur = this.#bucket(ref).get(key);
    if (!cur) throw this.#notFound(ref, name);
    this.#bucket(ref).delete(key);
    this.actions.push({ verb: 'delete', resource: ref.resource, namespace, name });
    this.#emit(ref, 'DELETED', cur);
  }

  async createSubresource<T extends KubeObject>(ref: ResourceRef, name: string, subresource: string, body: KubeObject, namespace?: string): Promise<T> {
    this.actions.push({ verb: 'createSubresource', resource: ref.resource, namespace, name, subresource, object: structuredClone(body) });
    if (ref.resource === 'pods' && subresource === 'binding') {
      const pod = await this.get(ref, name, namespace);
      pod.spec = { ...pod.spec, nodeName: body.target?.name };
      pod.metadata.resourceVersion = String(++this.#rv);
      this.#bucket(ref).set(`${namespace ?? ''}/${name}`, pod);
      this.#emit(ref, 'MODIFIED', pod);
    }
    if (ref.resource === 'pods' && subresource === 'eviction') await this.delete(ref, name, namespace);
    return structuredClone(body) as T;
  }
}

/** RFC 7396 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
