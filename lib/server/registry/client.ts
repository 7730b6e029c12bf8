// The in-process Client over the registry: what controllers, the scheduler and the server-side kubelet use. No HTTP
// and no JSON round-trip beyond the store's own encoding; errors are the same ApiErrors the HTTP API returns.
import type {
  Client, ClientWatch, DeleteOptions, KubeList, KubeObject, ListQuery, PatchType, ResourceRef, WatchQuery,
} from '../../client/types.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import type { WriteContext } from './admission.ts';
import { notFound } from './errors.ts';
import { list } from './list.ts';
import { toVersion } from './object.ts';
import { patchObject } from './patch-object.ts';
import type { Registry } from './registry.ts';
import { getScale, updateScale } from './scale.ts';
import { createSubresource } from './subresource.ts';
import { watch } from './watch.ts';

export class RegistryClient implements Client {
  readonly #r: Registry;
  readonly #w: WriteContext;

  constructor(registry: Registry, w: WriteContext = {}) {
    this.#r = registry;
    this.#w = w;
  }

  #strategy(ref: ResourceRef): ResourceStrategy {
    const s = this.#r.catalog.lookup(ref.group, ref.version, ref.resource);
    if (!s) throw notFound({ group: ref.group, plural: ref.resource }, '');
    return s;
  }

  async get<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, namespace?: string): Promise<T> {
    const s = this.#strategy(ref);
    return toVersion(s, await this.#r.get(s, namespace, name), ref.version) as T;
  }

  async list<T extends KubeObject = KubeObject>(ref: ResourceRef, query: ListQuery = {}): Promise<KubeList<T>> {
    const s = this.#strategy(ref);
    return (await list(this.#r, s, { ...query, version: ref.version })) as KubeList<T>;
  }

  async watch<T extends KubeObject = KubeObject>(ref: ResourceRef, query: WatchQuery = {}): Promise<ClientWatch<T>> {
    const s = this.#strategy(ref);
    return (await watch(this.#r, s, { ...query, version: ref.version })) as unknown as ClientWatch<T>;
  }

  async create<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, namespace?: string): Promise<T> {
    const s = this.#strategy(ref);
    const created = await this.#r.create(s, namespace ?? obj.metadata?.namespace, obj, this.#w);
    return toVersion(s, created, ref.version) as T;
  }

  async update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, subresource?: string): Promise<T> {
    const s = this.#strategy(ref);
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name ?? '';
    if (subresource === 'scale') return (await updateScale(this.#r, s, ns, name, () => obj, { ...this.#w, subresource: 'scale' })) as T;
    const res = await this.#r.update(s, ns, name, obj, this.#w, subresource);
    return toVersion(s, res.object, ref.version) as T;
  }

  async patch<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, type: PatchType, patch: unknown, opts: { namespace?: string; subresource?: string; fieldManager?: string } = {}): Promise<T> {
    const s = this.#strategy(ref);
    const res = await patchObject(this.#r, s, opts.namespace, name, type, patch, { ...this.#w, fieldManager: opts.fieldManager }, opts.subresource);
    return (opts.subresource === 'scale' ? res.object : toVersion(s, res.object, ref.version)) as T;
  }

  async delete(ref: ResourceRef, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<void> {
    const s = this.#strategy(ref);
    await this.#r.delete(s, namespace, name, opts, this.#w);
  }

  async createSubresource<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, subresource: string, body: KubeObject, namespace?: string): Promise<T> {
    const s = this.#strategy(ref);
    return (await createSubresource(this.#r, s, namespace, name, subresource, body, this.#w)) as T;
  }

  /** The Scale of a scalable resource (autoscaling/v1). */
  async getScale(ref: ResourceRef, name: string, namespace?: string): Promise<KubeObject> {
    return getScale(this.#r, this.#strategy(ref), namespace, name);
  }
}
