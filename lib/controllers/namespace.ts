// Namespace controller: a namespace being deleted (deletionTimestamp set) is emptied of every object of every
// namespaced resource, then its `kubernetes` finalizer is removed through namespaces/finalize so the API server
// can delete it. Content still terminating (graceful pods) is waited for with a bounded backoff.
import { core, isNotFound, type Client, type KubeObject, type ResourceRef } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import { type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import { logger } from '../log/logger.ts';
import type { ControllerContext, Runnable } from './context.ts';
import { defaultGCResources } from './garbage-collector.ts';

const log = logger('controller/namespace');
const nsRef = core('namespaces');
export const NAMESPACE_FINALIZER = 'kubernetes';

/** Namespaced resources emptied by default when none are given. */
export const defaultNamespacedResources: ResourceRef[] = [
  ...defaultGCResources.filter((r) => r.namespaced).map((r) => r.ref),
  core('events'), core('podtemplates'), core('resourcequotas'), core('limitranges'),
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' },
  { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies' },
  { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles' },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings' },
  { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' },
  { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' },
];

export interface NamespaceDeps {
  client: Pick<Client, 'list' | 'delete' | 'update'>;
  namespaces: Lister;
  resources: ResourceRef[] | (() => ResourceRef[]);
  /** Content remaining: ask for another pass after ms. */
  requeueAfter?(key: string, ms: number): void;
  attempts?: Map<string, number>;
  clock?: Clock;
}

/** Returns the number of objects still present (0 once finalized). */
export async function reconcileNamespace(d: NamespaceDeps, key: string): Promise<number> {
  const ns = d.namespaces.get(key);
  if (!ns || !ns.metadata.deletionTimestamp) { d.attempts?.delete(key); return 0; }
  if (!(ns.spec?.finalizers ?? []).includes(NAMESPACE_FINALIZER)) return 0;
  let remaining = 0;
  const left = new Map<string, number>();
  const finalizers = new Map<string, number>();
  const resources = typeof d.resources === 'function' ? d.resources() : d.resources;
  for (const ref of resources) {
    if (ref.group === '' && ref.resource === 'namespaces') continue;
    let items: KubeObject[];
    try {
      items = (await d.client.list(ref, { namespace: key })).items;
    } catch (e) {
      if (isNotFound(e)) continue; // not served here
      throw e;
    }
    for (const o of items) {
      remaining++;
      left.set(ref.resource + (ref.group ? `.${ref.group}` : ''), (left.get(ref.resource + (ref.group ? `.${ref.group}` : '')) ?? 0) + 1);
      for (const f of o.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
      if (o.metadata.deletionTimestamp) continue;
      await d.client.delete(ref, o.metadata.name!, key, { propagationPolicy: 'Background', preconditions: { uid: o.metadata.uid } }).catch((e) => { if (!isNotFound(e)) throw e; });
    }
  }
  const current = await setDeletionConditions(d, ns, left, finalizers);
  if (remaining > 0) {
    const n = (d.attempts?.get(key) ?? 0) + 1;
    d.attempts?.set(key, n);
    d.requeueAfter?.(key, Math.min(16_000, 250 * 2 ** Math.min(n, 6)));
    log.debug('namespace content remaining', { namespace: key, remaining });
    return remaining;
  }
  d.attempts?.delete(key);
  const upd = structuredClone(current) as KubeObject;
  upd.spec = { ...upd.spec, finalizers: (current.spec?.finalizers ?? []).filter((f: string) => f !== NAMESPACE_FINALIZER) };
  await d.client.update(nsRef, upd, 'finalize').catch((e) => { if (!isNotFound(e)) throw e; });
  return 0;
}

type Cond = { type: string; status: string; reason: string; message: string; lastTransitionTime?: string };

/** The deletion conditions `kubectl describe namespace` shows; written only when one changes. Returns the namespace as stored. */
async function setDeletionConditions(d: NamespaceDeps, ns: KubeObject, left: Map<string, number>, finalizers: Map<string, number>): Promise<KubeObject> {
  const want: Cond[] = [
    { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
    { type: 'NamespaceDeletionGroupVersionParsingFailure', status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
    { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
    left.size
      ? { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${[...left].sort().map(([r, n]) => `${r} has ${n} resource instances`).join(', ')}` }
      : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
    finalizers.size
      ? { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${[...finalizers].sort().map(([f, n]) => `${f} in ${n} resource instances`).join(', ')}` }
      : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
  ];
  const cur: Cond[] = ns.status?.conditions ?? [];
  const same = (a: Cond, b?: Cond) => !!b && a.status === b.status && a.reason === b.reason && a.message === b.message;
  if (want.every((c) => same(c, cur.find((x) => x.type === c.type)))) return ns;
  const now = new Date(d.clock?.now() ?? Date.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const conditions = want.map((c) => {
    const old = cur.find((x) => x.type === c.type);
    return { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime ?? now : now };
  });
  const upd = structuredClone(ns) as KubeObject;
  upd.status = { ...upd.status, conditions };
  try {
    return await d.client.update(nsRef, upd, 'status');
  } catch (e) {
    if (isNotFound(e)) return ns;
    throw e;
  }
}

export function namespaceController(ctx: ControllerContext): Runnable & { controller: Controller; deps: NamespaceDeps } {
  const namespaces = ctx.factory.informer(nsRef);
  const deps: NamespaceDeps = { client: ctx.client, namespaces: namespaces.lister, resources: ctx.namespacedResources ?? defaultNamespacedResources, attempts: new Map(), clock: ctx.clock };
  const controller = new Controller({ name: 'namespace', clock: ctx.clock, workers: 2, reconcile: async (k) => { await reconcileNamespace(deps, k); } });
  deps.requeueAfter = (k, ms) => controller.enqueueAfter(k, ms);
  namespaces.addHandler({
    add: (n) => { if (n.metadata.deletionTimestamp) controller.enqueue(n); },
    update: (_o, n) => { if (n.metadata.deletionTimestamp) controller.enqueue(n); },
  });
  return { controller, deps, run: (signal) => controller.run(signal) };
}

