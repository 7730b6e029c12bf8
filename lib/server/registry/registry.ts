// The generic registry: create/get/update/delete of any resource over the Store, driven by its strategy. Both the
// HTTP verb handlers and the in-process client call it. List and watch live in list.ts and watch.ts.
import { randomUUID } from 'node:crypto';
import type { Client, DeleteOptions, KubeObject } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import {
  AlreadyExistsError, ConflictError, LeaseNotFoundError, NotFoundError, type KeyValue, type Store,
} from '../../store/types.ts';
import type { ResourceCatalog } from '../resources/catalog.ts';
import type { ClusterSettings, ResourceStrategy, StrategyContext } from '../resources/types.ts';
import { apiVersionOf } from '../resources/types.ts';
import { dns1123Subdomain } from '../resources/validation.ts';
import type { Admit, WriteContext } from './admission.ts';
import { alreadyExists, badRequest, conflict, forbidden, invalid, notFound } from './errors.ts';
import { checkMetaShape, checkName, shaped, stripRv } from './checks.ts';
import { LeasePool } from './lease-pool.ts';
import { recordManagedFields } from './managed-fields.ts';
import {
  canonical, decodeObject, encodeObject, generateSuffix, objectKey, rfc3339, specPart,
} from './object.ts';

const log = logger('registry');

export interface RegistryOptions {
  store: Store;
  catalog: ResourceCatalog;
  config?: Partial<ClusterSettings>;
  clock?: Clock;
  /** Admission chain run on every write. Default: admit everything. */
  admit?: Admit;
  /** How often watches with allowWatchBookmarks get a BOOKMARK (ms). Default 60 s. */
  bookmarkIntervalMs?: number;
}

export interface UpdateResult { object: KubeObject; created: boolean }
export interface DeleteResult { object: KubeObject; /** false: kept (graceful deletion or finalizers pending) */ removed: boolean }

const MAX_RETRIES = 10;

export class Registry {
  readonly store: Store;
  readonly catalog: ResourceCatalog;
  readonly clock: Clock;
  readonly config: ClusterSettings;
  readonly bookmarkIntervalMs: number;
  #admit: Admit;
  #leases: LeasePool;
  /** Set by RegistryClient; strategies use it for lookups. */
  client!: Client;

  constructor(o: RegistryOptions) {
    this.store = o.store;
    this.catalog = o.catalog;
    this.clock = o.clock ?? realClock;
    this.config = { serviceCidr: '10.43.0.0/16', nodePortRange: [30000, 32767], clusterDomain: 'cluster.local', ...o.config };
    this.#admit = o.admit ?? (async () => {});
    this.#leases = new LeasePool(o.store, this.clock);
    this.bookmarkIntervalMs = o.bookmarkIntervalMs ?? 60_000;
  }

  #lastProgress = 0;
  /** Asks the store for a progress notification (bookmarks), at most once a second. */
  requestProgress(): void {
    const now = Date.now();
    if (now - this.#lastProgress < 1000) return;
    this.#lastProgress = now;
    this.store.progress?.();
  }

  setAdmit(admit: Admit): void {
    this.#admit = admit;
  }

  ctx(w: WriteContext = {}): StrategyContext {
    return { now: () => this.clock.now(), config: this.config, client: this.client, dryRun: w.dryRun, user: w.user };
  }

  /** Current object and its store entry; 404 when absent. */
  async read(s: ResourceStrategy, namespace: string | undefined, name: string): Promise<{ obj: KubeObject; kv: KeyValue }> {
    checkName(s, name);
    const { kv } = await this.store.get(objectKey(s, namespace, name));
    if (!kv) throw notFound(s, name);
    return { obj: decodeObject(kv), kv };
  }

  async get(s: ResourceStrategy, namespace: string | undefined, name: string): Promise<KubeObject> {
    return (await this.read(s, namespace, name)).obj;
  }

  async create(s: ResourceStrategy, namespace: string | undefined, input: KubeObject, w: WriteContext = {}, subresource?: string): Promise<KubeObject> {
    const obj = structuredClone(input) as KubeObject;
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest('the request body is not an object');
    this.#checkTypeMeta(s, obj);
    obj.metadata ??= {};
    const m = obj.metadata;
    this.#checkNamespace(s, namespace, obj);
    if (!m.name && m.generateName) m.name = m.generateName + generateSuffix();
    if (!m.name) throw invalid(s, '', [{ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' }]);
    checkName(s, m.name);
    if (s.namespaced) await this.#checkNamespaceActive(namespace!, s);
    m.uid = randomUUID();
    m.creationTimestamp = rfc3339(this.clock.now());
    if (s.generation === false) delete m.generation; else m.generation = 1;
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    const mfInput = m.managedFields;
    const ctx = this.ctx(w);
    await shaped(s, () => s.defaults?.(obj, ctx));
    await this.#admit({ operation: 'CREATE', ...this.#attrs(s, namespace, m.name, subresource), object: obj, user: w.user, dryRun: !!w.dryRun });
    const causes = await shaped(s, () => (s.validate ? s.validate(obj, undefined, ctx) : dns1123Subdomain('metadata.name', m.name)));
    if (causes.length) throw invalid(s, m.name, causes);
    const key = objectKey(s, namespace, m.name);
    if ((await this.store.get(key)).kv) throw alreadyExists(s, m.name);
    await shaped(s, () => s.prepareForCreate?.(obj, ctx));
    recordManagedFields({ strategy: s, obj, input: mfInput, w, subresource, now: this.clock.now() });
    if (w.dryRun) return obj;
    const ttl = s.ttlSeconds?.(obj);
    try {
      const lease = ttl ? await this.#leases.lease(ttl) : undefined;
      const kv = await this.store.create(key, encodeObject(obj), { lease });
      obj.metadata.resourceVersion = String(kv.modRevision);
      return obj;
    } catch (e) {
      // release what prepareForCreate allocated (ClusterIPs, NodePorts): afterDelete frees what obj holds
      await this.#afterDelete(s, obj);
      if (e instanceof AlreadyExistsError) throw alreadyExists(s, m.name);
      throw e;
    }
  }

  /**
   * PUT: replaces the object (or its status/finalize subresource). A resourceVersion in the body is a
   * precondition (409 on mismatch); without one the update is unconditional.
   */
  async update(s: ResourceStrategy, namespace: string | undefined, name: string, input: KubeObject, w: WriteContext = {}, subresource?: string): Promise<UpdateResult> {
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw badRequest('the request body is not an object');
    this.#checkTypeMeta(s, input);
    input.metadata ??= {};
    if (input.metadata.name && input.metadata.name !== name) throw badRequest(`the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`);
    this.#checkNamespace(s, namespace, input);
    const precondition = input.metadata.resourceVersion;
    if (precondition !== undefined && precondition !== '' && !/^\d+$/.test(precondition)) throw badRequest(`invalid resourceVersion ${JSON.stringify(precondition)}`);
    return this.guaranteedUpdate(s, namespace, name, () => structuredClone(input), w, subresource, precondition ? Number(precondition) : 0);
  }

  /**
   * Read-modify-write: `next(current)` computes the desired object; the strategy rules apply; on a write
   * conflict the cycle repeats unless a precondition revision was given (then 409).
   */
  async guaranteedUpdate(
    s: ResourceStrategy, namespace: string | undefined, name: string,
    next: (current: KubeObject) => KubeObject | Promise<KubeObject>, w: WriteContext = {}, subresource?: string, precondition = 0,
  ): Promise<UpdateResult> {
    for (let attempt = 0; ; attempt++) {
      const { obj: old, kv } = await this.read(s, namespace, name);
      if (precondition && precondition !== kv.modRevision) throw conflict(s, name);
      let obj = await next(structuredClone(old));
      if (!obj.metadata) obj.metadata = {};
      const p = obj.metadata.resourceVersion;
      if (!precondition && p && /^\d+$/.test(p) && Number(p) !== kv.modRevision) throw conflict(s, name);
      const uid = obj.metadata.uid;
      if (uid && uid !== old.metadata.uid) throw conflict(s, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${old.metadata.uid}`);
      obj = await this.#prepareUpdate(s, old, obj, w, subresource);
      if (canonical(stripRv(obj)) === canonical(stripRv(old))) return { object: old, created: false };
      if (w.dryRun) return { object: obj, created: false };
      try {
        if (this.#shouldRemoveAfterUpdate(s, old, obj)) {
          await this.store.delete(kv.key, kv.modRevision);
          await this.#afterDelete(s, obj);
          return { object: obj, created: false };
        }
        const written = await this.#write(kv, obj, s, !!s.deferrable?.(obj, old));
        obj.metadata.resourceVersion = String(written.modRevision);
        return { object: obj, created: false };
      } catch (e) {
        if (e instanceof ConflictError && !precondition && attempt < MAX_RETRIES) continue;
        if (e instanceof ConflictError) throw conflict(s, name);
        if (e instanceof NotFoundError) throw notFound(s, name);
        throw e;
      }
    }
  }

  /** Bypasses the strategy: for subresource handlers (binding) and delete bookkeeping. */
  async rawUpdate(s: ResourceStrategy, namespace: string | undefined, name: string, mutate: (o: KubeObject) => void | Promise<void>): Promise<KubeObject> {
    for (let attempt = 0; ; attempt++) {
      const { obj, kv } = await this.read(s, namespace, name);
      await mutate(obj);
      try {
        const written = await this.#write(kv, obj, s);
        obj.metadata.resourceVersion = String(written.modRevision);
        return obj;
      } catch (e) {
        if (e instanceof ConflictError && attempt < MAX_RETRIES) continue;
        if (e instanceof NotFoundError) throw notFound(s, name);
        throw e;
      }
    }
  }

  async #write(kv: KeyValue, obj: KubeObject, s: ResourceStrategy, deferred = false): Promise<KeyValue> {
    try {
      return await this.store.update(kv.key, encodeObject(obj), kv.modRevision, { lease: kv.lease || undefined, ...(deferred ? { deferred } : {}) });
    } catch (e) {
      if (!(e instanceof LeaseNotFoundError || (e instanceof Error && /lease .* not found/.test(e.message)))) throw e;
      this.#leases.forget(kv.lease);
      const ttl = s.ttlSeconds?.(obj);
      return this.store.update(kv.key, encodeObject(obj), kv.modRevision, { lease: ttl ? await this.#leases.lease(ttl) : undefined });
    }
  }

  async #prepareUpdate(s: ResourceStrategy, old: KubeObject, obj: KubeObject, w: WriteContext, subresource?: string): Promise<KubeObject> {
    this.#checkTypeMeta(s, obj);
    const hasStatus = s.subresources?.some((x) => x.name === 'status');
    const custom = subresource ? s.subresources?.find((x) => x.name === subresource && x.update) : undefined;
    if (custom) {
      const r = custom.update!(obj, old);
      if (r.causes.length) throw invalid(s, old.metadata.name ?? '', r.causes);
      obj = r.obj;
    } else if (subresource === 'status') {
      obj = { ...structuredClone(old), status: obj.status };
    } else if (subresource === 'finalize') {
      const f = obj.spec?.finalizers;
      obj = structuredClone(old);
      obj.spec = { ...obj.spec, finalizers: f ?? [] };
    } else if (subresource) {
      throw badRequest(`subresource ${subresource} does not support update`);
    } else if (hasStatus) {
      if (old.status === undefined) delete obj.status; else obj.status = structuredClone(old.status);
    }
    const m = obj.metadata;
    const om = old.metadata;
    m.name = om.name;
    if (om.namespace) m.namespace = om.namespace; else delete m.namespace;
    m.uid = om.uid;
    m.creationTimestamp = om.creationTimestamp;
    if (s.generation === false || om.generation === undefined) delete m.generation; else m.generation = om.generation;
    for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
      if (om[k] === undefined) delete m[k]; else (m as Record<string, unknown>)[k] = om[k];
    }
    const mfInput = m.managedFields;
    if (om.deletionTimestamp && (m.finalizers ?? []).some((f) => !(om.finalizers ?? []).includes(f))) {
      throw invalid(s, om.name ?? '', [{ field: 'metadata.finalizers', reason: 'FieldValueForbidden', message: 'Forbidden: no new finalizers can be added if the object is being deleted' }]);
    }
    const ctx = this.ctx(w);
    if (subresource !== 'status' && subresource !== 'finalize' && !custom) await shaped(s, () => s.defaults?.(obj, ctx));
    await this.#admit({ operation: 'UPDATE', ...this.#attrs(s, om.namespace, om.name, subresource), object: obj, oldObject: old, user: w.user, dryRun: !!w.dryRun });
    if (subresource === 'finalize' && s.plural === 'namespaces') {
      // the namespace strategy's prepareForUpdate would undo the finalize: skip it
    } else {
      await shaped(s, () => s.prepareForUpdate?.(obj, old, ctx));
    }
    if (subresource !== 'status' && subresource !== 'finalize' && !custom) {
      const causes = await shaped(s, () => (s.validate ? s.validate(obj, old, ctx) : []));
      if (causes.length) throw invalid(s, om.name ?? '', causes);
    }
    recordManagedFields({ strategy: s, old, obj, input: mfInput, w, subresource, now: this.clock.now() });
    if (s.generation !== false && specPart(obj) !== specPart(old)) m.generation = (om.generation ?? 0) + 1;
    return obj;
  }

  #shouldRemoveAfterUpdate(s: ResourceStrategy, old: KubeObject, obj: KubeObject): boolean {
    return !!obj.metadata.deletionTimestamp && old.metadata.deletionGracePeriodSeconds === 0
      && !(obj.metadata.finalizers?.length) && !s.finalizersPending?.(obj);
  }

  /**
   * DELETE: removes the object, or marks it (deletionTimestamp) when a grace period or finalizers hold it.
   */
  async delete(s: ResourceStrategy, namespace: string | undefined, name: string, opts: DeleteOptions = {}, w: WriteContext = {}): Promise<DeleteResult> {
    for (let attempt = 0; ; attempt++) {
      const { obj, kv } = await this.read(s, namespace, name);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== obj.metadata.uid) throw conflict(s, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
      if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) throw conflict(s, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`);
      if (attempt === 0) await this.#admit({ operation: 'DELETE', ...this.#attrs(s, namespace, name), oldObject: obj, user: w.user, dryRun: !!w.dryRun });
      const out = structuredClone(obj);
      const m = out.metadata;
      const fin = new Set(m.finalizers ?? []);
      if (opts.propagationPolicy === 'Orphan') { fin.add('orphan'); fin.delete('foregroundDeletion'); }
      if (opts.propagationPolicy === 'Foreground') { fin.add('foregroundDeletion'); fin.delete('orphan'); }
      if (!m.deletionTimestamp || fin.size !== (m.finalizers ?? []).length) {
        if (fin.size) m.finalizers = [...fin];
      }
      const pending = (m.finalizers?.length ?? 0) > 0 || !!s.finalizersPending?.(out);
      const grace = Math.max(0, Math.floor(s.deleteGracePeriod?.(obj, opts) ?? 0));
      const now = this.clock.now();
      let remove = false;
      if (m.deletionTimestamp) {
        const remaining = Date.parse(m.deletionTimestamp) - now;
        if (grace === 0 && !pending) remove = true;
        else if (grace * 1000 < remaining || (grace === 0 && (m.deletionGracePeriodSeconds ?? 0) > 0)) {
          m.deletionTimestamp = rfc3339(now + grace * 1000);
          m.deletionGracePeriodSeconds = grace;
        } else if (canonical(out) === canonical(obj)) {
          return { object: obj, removed: false };
        }
      } else if (!pending && grace === 0) {
        remove = true;
      } else {
        m.deletionTimestamp = rfc3339(now + grace * 1000);
        m.deletionGracePeriodSeconds = grace;
        s.prepareForDelete?.(out, this.ctx(w));
      }
      if (w.dryRun) return { object: out, removed: remove };
      try {
        if (remove) {
          const tomb = await this.store.delete(kv.key, kv.modRevision);
          out.metadata.resourceVersion = String(tomb.modRevision);
          await this.#afterDelete(s, out);
          return { object: out, removed: true };
        }
        const written = await this.#write(kv, out, s);
        out.metadata.resourceVersion = String(written.modRevision);
        return { object: out, removed: false };
      } catch (e) {
        if (e instanceof ConflictError && attempt < MAX_RETRIES) continue;
        if (e instanceof NotFoundError) throw notFound(s, name);
        throw e;
      }
    }
  }

  async #afterDelete(s: ResourceStrategy, obj: KubeObject): Promise<void> {
    try {
      await s.afterDelete?.(obj, this.ctx());
    } catch (e) {
      log.warn('after-delete hook failed', { resource: s.plural, name: obj.metadata.name, error: String(e) });
    }
  }

  #attrs(s: ResourceStrategy, namespace: string | undefined, name: string | undefined, subresource?: string) {
    return { group: s.group, version: s.versions[0]!, resource: s.plural, subresource, kind: s.kind, namespace: s.namespaced ? namespace : undefined, name };
  }

  #checkTypeMeta(s: ResourceStrategy, obj: KubeObject): void {
    checkMetaShape(s, obj);
    if (obj.kind && obj.kind !== s.kind) {
      throw badRequest(`the API version in the data (${obj.apiVersion ?? ''}) does not match the expected API version (${apiVersionOf(s.group, s.versions[0]!)}) or the kind (${obj.kind}) does not match ${s.kind}`);
    }
    if (obj.apiVersion && obj.apiVersion !== s.storedAs?.apiVersion && !s.versions.some((v) => apiVersionOf(s.group, v) === obj.apiVersion)) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersionOf(s.group, s.versions[0]!)})`);
    }
    const storage = s.storedAs?.apiVersion ?? apiVersionOf(s.group, s.versions[0]!);
    if (obj.apiVersion && obj.apiVersion !== storage && s.convert) Object.assign(obj, s.convert(obj, s.versions[0]!));
    obj.apiVersion = storage;
    obj.kind = s.kind;
  }

  #checkNamespace(s: ResourceStrategy, namespace: string | undefined, obj: KubeObject): void {
    obj.metadata ??= {};
    if (!s.namespaced) {
      delete obj.metadata.namespace;
      return;
    }
    if (!namespace) throw badRequest('the server could not find the requested resource: a namespace is required');
    if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = namespace;
  }

  async #checkNamespaceActive(namespace: string, s: ResourceStrategy): Promise<void> {
    const ns = this.catalog.lookup('', 'v1', 'namespaces');
    if (!ns) return;
    const { kv } = await this.store.get(objectKey(ns, undefined, namespace));
    if (!kv) throw notFound(ns, namespace);
    const obj = decodeObject(kv);
    if (obj.metadata.deletionTimestamp && s.plural !== 'events') {
      throw forbidden(`${s.plural} "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`.replace(' "" ', ' '));
    }
  }
}

export { checkName } from './checks.ts';
