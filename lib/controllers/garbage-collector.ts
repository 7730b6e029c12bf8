// Garbage collector: deletes objects whose owners (ownerReferences) are all gone (background propagation), empties
// owners under foreground deletion (the `foregroundDeletion` finalizer: dependents first, then the finalizer goes)
// and orphans dependents of owners deleted with the `orphan` finalizer. The graph is the informer caches of the
// watched resources, indexed by uid and by owner uid. Owners of kinds it does not watch are never presumed gone.
import { core, isNotFound, type Client, type KubeObject, type OwnerReference, type ResourceRef } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import { byOwnerUid, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import type { ControllerContext, Runnable } from './context.ts';

export const FOREGROUND = 'foregroundDeletion';
export const ORPHAN = 'orphan';

export interface GCResource {
  ref: ResourceRef;
  kind: string;
  namespaced: boolean;
}

/** Resources watched by default (those that carry or are named in ownerReferences in practice). */
export const defaultGCResources: GCResource[] = [
  { ref: core('pods'), kind: 'Pod', namespaced: true },
  { ref: core('services'), kind: 'Service', namespaced: true },
  { ref: core('endpoints'), kind: 'Endpoints', namespaced: true },
  { ref: core('configmaps'), kind: 'ConfigMap', namespaced: true },
  { ref: core('secrets'), kind: 'Secret', namespaced: true },
  { ref: core('persistentvolumeclaims'), kind: 'PersistentVolumeClaim', namespaced: true },
  { ref: core('serviceaccounts'), kind: 'ServiceAccount', namespaced: true },
  { ref: core('replicationcontrollers'), kind: 'ReplicationController', namespaced: true },
  { ref: core('nodes'), kind: 'Node', namespaced: false },
  { ref: { group: 'apps', version: 'v1', resource: 'deployments' }, kind: 'Deployment', namespaced: true },
  { ref: { group: 'apps', version: 'v1', resource: 'replicasets' }, kind: 'ReplicaSet', namespaced: true },
  { ref: { group: 'apps', version: 'v1', resource: 'daemonsets' }, kind: 'DaemonSet', namespaced: true },
  { ref: { group: 'apps', version: 'v1', resource: 'statefulsets' }, kind: 'StatefulSet', namespaced: true },
  { ref: { group: 'apps', version: 'v1', resource: 'controllerrevisions' }, kind: 'ControllerRevision', namespaced: true },
  { ref: { group: 'batch', version: 'v1', resource: 'jobs' }, kind: 'Job', namespaced: true },
  { ref: { group: 'batch', version: 'v1', resource: 'cronjobs' }, kind: 'CronJob', namespaced: true },
  { ref: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' }, kind: 'EndpointSlice', namespaced: true },
];

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');
const byUid = (o: KubeObject) => (o.metadata.uid ? [o.metadata.uid] : []);

export interface GCDeps {
  client: Pick<Client, 'get' | 'delete' | 'patch'>;
  clock?: Clock;
  resources: GCResource[];
  listers: Lister[];
}

interface Node { res: GCResource; lister: Lister; obj: KubeObject }

export class GarbageCollector {
  readonly d: GCDeps;
  constructor(d: GCDeps) {
    this.d = d;
  }

  /** Item key: "<index into resources>|<namespace>/<name>" or "<i>|<name>". */
  static key(i: number, o: KubeObject): string {
    return `${i}|${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
  }

  #lookup(key: string): Node | undefined {
    const bar = key.indexOf('|');
    const i = Number(key.slice(0, bar));
    const lister = this.d.listers[i];
    const obj = lister?.getByKey(key.slice(bar + 1));
    return obj && lister ? { res: this.d.resources[i]!, lister, obj } : undefined;
  }

  #resourceFor(ref: OwnerReference): number {
    return this.d.resources.findIndex((r) => r.kind === ref.kind && r.ref.group === groupOf(ref.apiVersion));
  }

  /** Every watched object owned by uid. */
  dependents(uid: string): { i: number; obj: KubeObject }[] {
    const out: { i: number; obj: KubeObject }[] = [];
    this.d.listers.forEach((l, i) => { for (const o of l.byIndex('ownerUid', uid)) out.push({ i, obj: o }); });
    return out;
  }

  /** 'solid' | 'absent' | 'waiting' (owner is being deleted in the foreground) | 'unknown' (kind not watched). */
  async ownerState(ref: OwnerReference, ns: string | undefined): Promise<'solid' | 'absent' | 'waiting' | 'unknown'> {
    const i = this.#resourceFor(ref);
    if (i < 0) return 'unknown';
    const res = this.d.resources[i]!;
    let owner: KubeObject | undefined = this.d.listers[i]!.byIndex('uid', ref.uid)[0];
    if (!owner) {
      // The cache may lag behind a just-created owner: ask the API before presuming it gone.
      try {
        owner = await this.d.client.get(res.ref, ref.name, res.namespaced ? ns : undefined);
        if (owner.metadata.uid !== ref.uid) owner = undefined;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    if (!owner) return 'absent';
    if (owner.metadata.deletionTimestamp && owner.metadata.finalizers?.includes(FOREGROUND)) return 'waiting';
    return 'solid';
  }

  async reconcile(key: string): Promise<void> {
    const n = this.#lookup(key);
    if (!n) return;
    const { obj } = n;
    if (obj.metadata.deletionTimestamp) {
      if (obj.metadata.finalizers?.includes(ORPHAN)) return this.#orphanDependents(n);
      if (obj.metadata.finalizers?.includes(FOREGROUND)) return this.#foreground(n);
    }
    const refs = obj.metadata.ownerReferences ?? [];
    if (!refs.length || obj.metadata.deletionTimestamp) return;
    const states = await Promise.all(refs.map((r) => this.ownerState(r, obj.metadata.namespace)));
    const solid = refs.filter((_, i) => states[i] === 'solid' || states[i] === 'unknown');
    if (solid.length) {
      const gone = new Set(refs.filter((_, i) => states[i] === 'absent' || states[i] === 'waiting').map((r) => r.uid));
      if (gone.size) await this.#removeRefs(n, gone);
      return;
    }
    const waiting = states.includes('waiting');
    const hasDependents = this.dependents(obj.metadata.uid!).length > 0;
    const policy = obj.metadata.finalizers?.includes(ORPHAN) ? 'Orphan' : waiting && hasDependents ? 'Foreground' : 'Background';
    await this.d.client.delete(n.res.ref, obj.metadata.name!, obj.metadata.namespace, { propagationPolicy: policy, preconditions: { uid: obj.metadata.uid } }).catch(ignoreNotFound);
  }

  async #foreground(n: Node): Promise<void> {
    const deps = this.dependents(n.obj.metadata.uid!);
    for (const { i, obj } of deps) {
      if (obj.metadata.deletionTimestamp) continue;
      const res = this.d.resources[i]!;
      const policy = this.dependents(obj.metadata.uid!).length ? 'Foreground' : 'Background';
      await this.d.client.delete(res.ref, obj.metadata.name!, obj.metadata.namespace, { propagationPolicy: policy, preconditions: { uid: obj.metadata.uid } }).catch(ignoreNotFound);
    }
    const blocking = deps.filter(({ obj }) => obj.metadata.ownerReferences?.some((r) => r.uid === n.obj.metadata.uid && r.blockOwnerDeletion));
    if (blocking.length) return; // requeued when they go away
    await this.#removeFinalizer(n, FOREGROUND);
  }

  async #orphanDependents(n: Node): Promise<void> {
    const uid = n.obj.metadata.uid!;
    for (const { i, obj } of this.dependents(uid)) {
      await this.#removeRefs({ res: this.d.resources[i]!, lister: this.d.listers[i]!, obj }, new Set([uid]));
    }
    await this.#removeFinalizer(n, ORPHAN);
  }

  async #removeRefs(n: Node, uids: Set<string>): Promise<void> {
    const left = (n.obj.metadata.ownerReferences ?? []).filter((r) => !uids.has(r.uid));
    await this.d.client.patch(n.res.ref, n.obj.metadata.name!, 'merge', { metadata: { ownerReferences: left.length ? left : null, uid: n.obj.metadata.uid, resourceVersion: n.obj.metadata.resourceVersion } }, { namespace: n.obj.metadata.namespace }).catch(ignoreNotFound);
  }

  async #removeFinalizer(n: Node, f: string): Promise<void> {
    const left = (n.obj.metadata.finalizers ?? []).filter((x) => x !== f);
    await this.d.client.patch(n.res.ref, n.obj.metadata.name!, 'merge', { metadata: { finalizers: left.length ? left : null, resourceVersion: n.obj.metadata.resourceVersion } }, { namespace: n.obj.metadata.namespace }).catch(ignoreNotFound);
  }
}

function ignoreNotFound(e: unknown): void {
  if (!isNotFound(e)) throw e;
}

export function garbageCollectorController(ctx: ControllerContext, resources: GCResource[] = defaultGCResources): Runnable & { gc: GarbageCollector; controller: Controller } {
  const informers = resources.map((r) => ctx.factory.informer(r.ref).addIndexer('ownerUid', byOwnerUid).addIndexer('uid', byUid));
  const gc = new GarbageCollector({ client: ctx.client, clock: ctx.clock, resources, listers: informers.map((i) => i.lister) });
  const controller = new Controller({ name: 'garbage-collector', clock: ctx.clock, workers: 2, reconcile: (k) => gc.reconcile(k) });
  const interesting = (o: KubeObject) => !!o.metadata.ownerReferences?.length || (!!o.metadata.deletionTimestamp && !!o.metadata.finalizers?.some((f) => f === FOREGROUND || f === ORPHAN));
  informers.forEach((inf, i) => {
    inf.addHandler({
      add: (o) => { if (interesting(o)) controller.enqueue(GarbageCollector.key(i, o)); },
      update: (old, o) => {
        if (interesting(o)) controller.enqueue(GarbageCollector.key(i, o));
        // An owner entering foreground/orphan deletion or changing uid: look at its dependents too.
        if (old !== o && o.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) for (const dep of gc.dependents(o.metadata.uid!)) controller.enqueue(GarbageCollector.key(dep.i, dep.obj));
      },
      delete: (o) => {
        for (const dep of gc.dependents(o.metadata.uid!)) controller.enqueue(GarbageCollector.key(dep.i, dep.obj));
        // A dependent went away: owners waiting for it (foreground) may now finish.
        for (const r of o.metadata.ownerReferences ?? []) {
          informers.forEach((oi, j) => { for (const owner of oi.lister.byIndex('uid', r.uid)) if (owner.metadata.deletionTimestamp) controller.enqueue(GarbageCollector.key(j, owner)); });
        }
      },
    });
  });
  return { gc, controller, run: (signal) => controller.run(signal) };
}
