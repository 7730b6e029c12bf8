// The CRD controller of the API server (every server runs it, not only the leader): watches
// CustomResourceDefinitions, adds a strategy per CRD to the served catalog, reports NamesAccepted/Established in
// the CRD status, and on deletion removes every custom resource before releasing the cleanup finalizer.
import { isNotFound, type Client, type KubeObject, type ResourceRef } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { Controller } from '../../controller/controller.ts';
import { Informer } from '../../controller/informer.ts';
import { logger } from '../../log/logger.ts';
import { rfc3339 } from '../registry/object.ts';
import { CRD_CLEANUP_FINALIZER } from '../resources/apiextensions.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { customResourceStrategy, storageVersion, type CustomResourceStrategy } from './strategy.ts';

const log = logger('crd');
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const CRD_REF: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };

/** What the controller needs of the served-resource catalog. */
export interface DynamicCatalog {
  add(s: ResourceStrategy): void;
  remove(group: string, plural: string): void;
  byResource(group: string, plural: string): ResourceStrategy | undefined;
}

export interface CrdControllerOptions {
  client: Client;
  catalog: DynamicCatalog;
  clock?: Clock;
}

interface Served { group: string; plural: string; fingerprint: string }

export class CrdController {
  readonly informer: Informer;
  readonly controller: Controller;
  readonly #client: Client;
  readonly #catalog: DynamicCatalog;
  readonly #clock: Clock;
  readonly #served = new Map<string, Served>();
  /** CRDs reconciled at least once (served, refused for a name conflict, or finalized). */
  readonly #handled = new Set<string>();

  constructor(o: CrdControllerOptions) {
    this.#client = o.client;
    this.#catalog = o.catalog;
    this.#clock = o.clock ?? realClock;
    this.informer = new Informer({ client: o.client, ref: CRD_REF, clock: this.#clock });
    this.controller = new Controller({ name: 'crd', reconcile: (k) => this.reconcile(k), clock: this.#clock });
    this.controller.watch(this.informer);
  }

  /** Runs until signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.informer.run(signal), this.controller.run(signal)]);
  }

  /** Resolves once every CRD present at start has been served (or signal aborts). */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await this.informer.waitForSync(signal);
    for (let i = 0; i < 600 && !signal?.aborted; i++) {
      const pending = this.informer.cache.all().some((c) => !c.metadata.deletionTimestamp && !this.#handled.has(c.metadata.name!));
      if (!pending) return;
      await this.#clock.sleep(50, signal);
    }
  }

  async reconcile(name: string): Promise<void> {
    try {
      await this.#reconcile(name);
    } finally {
      this.#handled.add(name);
    }
  }

  async #reconcile(name: string): Promise<void> {
    const crd = this.informer.lister.get(name) as Obj | undefined;
    if (!crd) {
      this.#unserve(name);
      return;
    }
    if (crd.metadata.deletionTimestamp) {
      await this.#finalize(crd);
      return;
    }
    const group = crd.spec?.group, plural = crd.spec?.names?.plural;
    const existing = this.#catalog.byResource(group, plural) as CustomResourceStrategy | undefined;
    if (existing && existing.crdName !== name) {
      await this.#setStatus(crd, false, 'NameConflict', `"${plural}" is already in use`);
      return;
    }
    const fingerprint = JSON.stringify(crd.spec);
    const prev = this.#served.get(name);
    if (!prev || prev.fingerprint !== fingerprint) {
      if (prev && (prev.group !== group || prev.plural !== plural)) this.#catalog.remove(prev.group, prev.plural);
      this.#catalog.add(customResourceStrategy(crd));
      this.#served.set(name, { group, plural, fingerprint });
      log.info('serving custom resource', { crd: name });
    }
    await this.#setStatus(crd, true, 'NoConflicts', 'no conflicts found');
  }

  #unserve(name: string): void {
    const s = this.#served.get(name);
    if (!s) return;
    this.#catalog.remove(s.group, s.plural);
    this.#served.delete(name);
    log.info('stopped serving custom resource', { crd: name });
  }

  async #setStatus(crd: Obj, accepted: boolean, reason: string, message: string): Promise<void> {
    const now = rfc3339(this.#clock.now());
    const old: Obj[] = crd.status?.conditions ?? [];
    const cond = (type: string, status: string, r: string, m: string) => {
      const prev = old.find((c) => c.type === type);
      return { type, status, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now, reason: r, message: m };
    };
    const conditions = accepted
      ? [cond('NamesAccepted', 'True', reason, message), cond('Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted')]
      : [cond('NamesAccepted', 'False', reason, message), cond('Established', 'False', 'NotAccepted', 'not all names are accepted')];
    const stored: string[] = [...(crd.status?.storedVersions ?? [])];
    const sv = storageVersion(crd)?.name;
    if (accepted && sv && !stored.includes(sv)) stored.push(sv);
    const status = { conditions, acceptedNames: accepted ? crd.spec.names : crd.status?.acceptedNames ?? { plural: '', kind: '' }, storedVersions: stored };
    if (JSON.stringify(status) === JSON.stringify(crd.status)) return;
    await this.#client.update(CRD_REF, { ...crd, status } as unknown as KubeObject, 'status');
  }

  /** Deletes every custom resource of a deleted CRD, then removes the cleanup finalizer. */
  async #finalize(crd: Obj): Promise<void> {
    const name = crd.metadata.name as string;
    if (!(crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) {
      this.#unserve(name);
      return;
    }
    const group = crd.spec?.group, plural = crd.spec?.names?.plural;
    const existing = this.#catalog.byResource(group, plural) as CustomResourceStrategy | undefined;
    if (!existing || existing.crdName !== name) {
      if (!existing) this.#catalog.add(customResourceStrategy(crd));
    }
    const version = storageVersion(crd)?.name ?? crd.spec?.versions?.[0]?.name;
    const ref: ResourceRef = { group, version, resource: plural };
    if (!existing || existing.crdName === name) {
      const items = (await this.#client.list(ref)).items;
      for (const it of items) {
        try { await this.#client.delete(ref, it.metadata.name!, it.metadata.namespace); } catch (e) { if (!isNotFound(e)) throw e; }
      }
      if ((await this.#client.list(ref)).items.length) throw new Error(`custom resources of ${name} are still being deleted`);
    }
    const fresh = await this.#client.get<KubeObject>(CRD_REF, name);
    const finalizers = (fresh.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    this.#unserve(name);
    if (!existing || existing.crdName === name) this.#catalog.remove(group, plural);
    await this.#client.update(CRD_REF, { ...fresh, metadata: { ...fresh.metadata, finalizers } });
    log.info('custom resources removed', { crd: name });
  }
}

/** Starts the CRD controller; resolves `ready` once existing CRDs are served. */
export function startCrdController(o: CrdControllerOptions & { signal: AbortSignal }): { controller: CrdController; ready: Promise<void>; done: Promise<void> } {
  const controller = new CrdController(o);
  const done = controller.run(o.signal).catch((e) => log.error('crd controller stopped', { err: String(e) }));
  return { controller, ready: controller.waitForSync(o.signal), done };
}
