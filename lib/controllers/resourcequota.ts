// ResourceQuota controller: keeps every quota's status.hard (= spec.hard) and status.used (what the namespace
// holds of each constrained resource) current. Pods, services, configmaps, secrets, PVCs and replication
// controllers are watched through informers; other count/<resource>.<group> names are listed on each reconcile and
// refreshed every resync period. Usage is computed by the admission plugin's code (lib/server/admission/quota.ts).
import { core, isConflict, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import { splitKey, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import { logger } from '../log/logger.ts';
import { formatLike } from '../server/admission/quantity.ts';
import { countedResource, quotaSelects, usageFor, type Usage } from '../server/admission/quota.ts';
import type { ControllerContext, Runnable } from './context.ts';

const log = logger('controller/resourcequota');
const quotasRef = core('resourcequotas');
const WATCHED = ['pods', 'services', 'configmaps', 'secrets', 'persistentvolumeclaims', 'replicationcontrollers', 'resourcequotas'];
/** Served versions of the groups count/<resource>.<group> usually names. */
const GROUP_VERSIONS: Record<string, string> = { apps: 'v1', batch: 'v1', 'networking.k8s.io': 'v1', 'policy': 'v1', 'autoscaling': 'v2', 'rbac.authorization.k8s.io': 'v1', 'coordination.k8s.io': 'v1', 'discovery.k8s.io': 'v1', 'storage.k8s.io': 'v1' };

export interface ResourceQuotaDeps {
  client: Pick<Client, 'list' | 'update'>;
  quotas: Lister;
  /** Listers of the watched core resources by plural. */
  listers: Record<string, Lister>;
}

/** The status a quota should have given the objects in its namespace. */
export async function computeQuotaStatus(d: ResourceQuotaDeps, quota: KubeObject): Promise<{ hard: Record<string, string>; used: Record<string, string> }> {
  const ns = quota.metadata.namespace!;
  const hard = { ...((quota.spec?.hard ?? {}) as Record<string, string>) };
  const names = Object.keys(hard);
  const byRef = new Map<string, { group: string; resource: string }>();
  for (const n of names) {
    const r = countedResource(n);
    if (r) byRef.set(`${r.group}/${r.resource}`, r);
  }
  let usage: Usage = {};
  for (const ref of byRef.values()) {
    const lister = !ref.group ? d.listers[ref.resource] : undefined;
    let objects: KubeObject[];
    if (lister) objects = lister.list(ns);
    else {
      try {
        objects = (await d.client.list({ group: ref.group, version: GROUP_VERSIONS[ref.group] ?? 'v1', resource: ref.resource }, { namespace: ns })).items;
      } catch (e) {
        if (isNotFound(e)) objects = [];
        else throw e;
      }
    }
    usage = { ...usage, ...usageFor(ref, objects.filter((o) => quotaSelects(quota, ref, o)), names) };
  }
  const used: Record<string, string> = {};
  for (const n of names) used[n] = formatLike(usage[n] ?? 0, hard[n]);
  return { hard, used };
}

export async function reconcileQuota(d: ResourceQuotaDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const quota = d.quotas.get(name, namespace);
  if (!quota || quota.metadata.deletionTimestamp) return;
  const status = await computeQuotaStatus(d, quota);
  if (JSON.stringify(quota.status?.hard ?? {}) === JSON.stringify(status.hard) && JSON.stringify(quota.status?.used ?? {}) === JSON.stringify(status.used)) return;
  const next = structuredClone(quota) as KubeObject;
  next.status = { ...(next.status ?? {}), ...status };
  try {
    await d.client.update(quotasRef, next, 'status');
  } catch (e) {
    if (isNotFound(e)) return;
    if (isConflict(e)) throw e; // requeued with backoff; the informer brings the newer object
    throw e;
  }
}

export function resourceQuotaController(ctx: ControllerContext, resyncMs = 30_000): Runnable & { controller: Controller } {
  const quotas = ctx.factory.informer(quotasRef);
  const listers: Record<string, Lister> = {};
  const controller = new Controller({ name: 'resourcequota', clock: ctx.clock, reconcile: async (k) => {
    await reconcileQuota(deps, k);
    controller.enqueueAfter(k, resyncMs); // count/<resource>.<group> of unwatched resources
  } });
  const deps: ResourceQuotaDeps = { client: ctx.client, quotas: quotas.lister, listers };
  const enqueueNs = (o: KubeObject) => {
    const ns = o.metadata.namespace;
    if (ns) for (const q of quotas.lister.list(ns)) controller.enqueue(q);
  };
  for (const r of WATCHED) {
    const inf = r === 'resourcequotas' ? quotas : ctx.factory.informer(core(r));
    listers[r] = inf.lister;
    if (r !== 'resourcequotas') inf.addHandler({ add: enqueueNs, update: (_o, n) => enqueueNs(n), delete: enqueueNs });
  }
  quotas.addHandler({
    add: (q) => { controller.enqueue(q); enqueueNs(q); },
    update: (o, n) => { if (JSON.stringify(o.spec) !== JSON.stringify(n.spec)) controller.enqueue(n); },
    delete: (q) => enqueueNs(q),
  });
  log.debug('resource quota controller wired');
  return { controller, run: (signal) => controller.run(signal) };
}
