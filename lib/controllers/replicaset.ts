// ReplicaSet and ReplicationController: keep `replicas` pods matching the selector, owned through a controller
// ownerReference (adopting orphans that match, releasing owned pods that stop matching), delete surplus pods in
// Kubernetes' order, and report replicas / fullyLabeled / ready / available (minReadySeconds) in status.
import { apps, core, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import { byOwnerUid, keyOf, splitKey, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import type { EventRecorder } from '../controller/events.ts';
import { Expectations } from '../controller/expectations.ts';
import { matchesSelector, type LabelSelector } from '../controller/selector.ts';
import { isPodAvailable, isPodReady, stableStringify } from './controller-revision.ts';
import type { ControllerContext, Runnable } from './context.ts';
import { adopt, claim, inBatches, podFromTemplate, rankForDeletion, release, type OwnerKind } from './pod-control.ts';

const podsRef = core('pods');
export const replicaSetKind: OwnerKind = { ref: apps('replicasets'), kind: 'ReplicaSet', apiVersion: 'apps/v1' };
export const replicationControllerKind: OwnerKind = { ref: core('replicationcontrollers'), kind: 'ReplicationController', apiVersion: 'v1' };

const BURST = 500;

export interface ReplicaSetDeps {
  client: Client;
  clock: Clock;
  owners: Lister;
  pods: Lister;
  kind: OwnerKind;
  recorder?: EventRecorder;
  expectations?: Expectations;
  requeueAfter?(key: string, ms: number): void;
}

export function selectorOf(owner: KubeObject, kind: OwnerKind): LabelSelector | undefined {
  if (kind.kind === 'ReplicationController') {
    const sel = owner.spec?.selector ?? owner.spec?.template?.metadata?.labels;
    return sel ? { matchLabels: sel } : undefined;
  }
  return owner.spec?.selector;
}

const isActive = (p: KubeObject) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata.deletionTimestamp;

export async function reconcileReplicaSet(d: ReplicaSetDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const rs = d.owners.get(name, namespace);
  const exp = d.expectations;
  if (!rs) { exp?.delete(key); return; }
  const sel = selectorOf(rs, d.kind);
  const matches = (l: Record<string, string> | undefined) => !!sel && Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions?.length ?? 0) > 0 && matchesSelector(sel, l);
  const all = d.pods.list(namespace).filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const c = claim(rs, all, matches);
  for (const p of c.release) await release(d.client, podsRef, p, rs).catch(ignoreNotFound);
  const owned = [...c.owned.filter(isActive)];
  for (const p of c.adopt) {
    try { owned.push(await adopt(d.client, podsRef, p, rs, d.kind)); } catch (e) { ignoreNotFound(e); }
  }
  let failure: string | undefined;
  if (!rs.metadata.deletionTimestamp && (!exp || exp.satisfied(key))) failure = await manage(d, key, rs, owned);
  await updateStatus(d, key, rs, owned.filter(isActive), failure);
}

async function manage(d: ReplicaSetDeps, key: string, rs: KubeObject, owned: KubeObject[]): Promise<string | undefined> {
  const want = rs.spec?.replicas ?? 1;
  const ev = { ...rs, apiVersion: d.kind.apiVersion, kind: d.kind.kind };
  const diff = owned.length - want;
  if (diff < 0) {
    const n = Math.min(-diff, BURST);
    d.expectations?.expect(key, n);
    const tmpl = rs.spec?.template ?? {};
    let failed: unknown;
    // Slow start (as Kubernetes): batches of 1, 2, 4, ... so a create that keeps failing (quota, admission) fails once, not n times.
    let done = 0;
    let errors: unknown[] = [];
    for (let batch = 1; done < n && !errors.length; batch *= 2) {
      const size = Math.min(batch, n - done);
      errors = await inBatches(Array.from({ length: size }), 16, async () => {
        const pod = await d.client.create(podsRef, podFromTemplate(rs, tmpl, d.kind), rs.metadata.namespace);
        d.recorder?.event(ev, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      });
      done += size;
    }
    if (errors.length) {
      failed = errors[0];
      d.expectations?.lowerAdds(key, errors.length + (n - done));
      const msg = String((failed as Error)?.message ?? failed);
      d.recorder?.event(ev, 'Warning', 'FailedCreate', `Error creating: ${msg}`);
      return msg;
    }
  } else if (diff > 0) {
    const victims = rankForDeletion(owned).slice(0, Math.min(diff, BURST));
    d.expectations?.expect(key, 0, victims.map(keyOf));
    await inBatches(victims, 16, async (p) => {
      try {
        await d.client.delete(podsRef, p.metadata.name!, p.metadata.namespace, { preconditions: { uid: p.metadata.uid } });
        d.recorder?.event(ev, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      } catch (e) {
        d.expectations?.deletionObserved(key, keyOf(p));
        if (!isNotFound(e)) throw e;
      }
    });
  }
  return undefined;
}

async function updateStatus(d: ReplicaSetDeps, key: string, rs: KubeObject, active: KubeObject[], failure: string | undefined): Promise<void> {
  const now = d.clock.now();
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const tmplLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
  const ready = active.filter(isPodReady);
  const available = active.filter((p) => isPodAvailable(p, minReady, now));
  const status: Record<string, unknown> = {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => Object.entries(tmplLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
    readyReplicas: ready.length,
    availableReplicas: available.length,
    observedGeneration: rs.metadata.generation ?? 0,
  };
  const old: Record<string, any> = rs.status ?? {};
  const oldFailure = (old.conditions ?? []).find((c: { type: string }) => c.type === 'ReplicaFailure');
  const conds = (old.conditions ?? []).filter((c: { type: string }) => c.type !== 'ReplicaFailure');
  if (failure) conds.push(oldFailure?.message === failure ? oldFailure : { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure, lastTransitionTime: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z') });
  if (conds.length) status.conditions = conds;
  for (const k of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) if (status[k] === 0 && old[k] === undefined) delete status[k];
  if (ready.length > available.length && minReady > 0) d.requeueAfter?.(key, minReady * 1000);
  const same = stableStringify(normalize(status)) === stableStringify(normalize(old));
  if (same) return;
  try {
    await d.client.update(d.kind.ref, { ...structuredClone(rs), status } as KubeObject, 'status');
  } catch (e) {
    ignoreNotFound(e);
  }
}

const normalize = (s: Record<string, unknown>) => {
  const o = { ...s };
  for (const k of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) if (!o[k]) delete o[k];
  return o;
};

function ignoreNotFound(e: unknown): void {
  if (!isNotFound(e)) throw e;
}

/** Wires the informers (owners, pods indexed by owner uid) to a Controller running reconcileReplicaSet. */
export function replicaSetController(ctx: ControllerContext, kind: OwnerKind = replicaSetKind): Runnable & { controller: Controller; deps: ReplicaSetDeps } {
  const owners = ctx.factory.informer(kind.ref);
  const pods = ctx.factory.informer(podsRef).addIndexer('ownerUid', byOwnerUid);
  const expectations = new Expectations(ctx.clock);
  const deps: ReplicaSetDeps = {
    client: ctx.client, clock: ctx.clock, owners: owners.lister, pods: pods.lister, kind, expectations,
    recorder: ctx.recorder(kind.kind === 'ReplicaSet' ? 'replicaset-controller' : 'replication-controller'),
  };
  const controller = new Controller({ name: kind.kind.toLowerCase(), clock: ctx.clock, workers: 2, reconcile: (k) => reconcileReplicaSet(deps, k) });
  deps.requeueAfter = (k, ms) => controller.enqueueAfter(k, ms);
  controller.watch(owners);
  const ownerKeyOf = (p: KubeObject): string | undefined => {
    const ref = p.metadata.ownerReferences?.find((r) => r.controller);
    if (ref) return ref.kind === kind.kind ? `${p.metadata.namespace}/${ref.name}` : undefined;
    return undefined;
  };
  // Orphans: every owner in the namespace whose selector matches may adopt it.
  const orphanOwners = (p: KubeObject): string[] =>
    owners.lister.list(p.metadata.namespace).filter((o) => { const s = selectorOf(o, kind); return !!s && matchesSelector(s, p.metadata.labels); }).map(keyOf);
  pods.addHandler({
    add: (p) => {
      const k = ownerKeyOf(p);
      if (k) { expectations.creationObserved(k); controller.enqueue(k); }
      else if (!p.metadata.ownerReferences?.some((r) => r.controller)) for (const o of orphanOwners(p)) controller.enqueue(o);
    },
    update: (old, p) => {
      if (old === p) return;
      const k = ownerKeyOf(p);
      const ok = ownerKeyOf(old);
      if (ok && ok !== k) controller.enqueue(ok);
      if (k) {
        if (p.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) expectations.deletionObserved(k, keyOf(p));
        controller.enqueue(k);
      } else if (!p.metadata.ownerReferences?.some((r) => r.controller)) for (const o of orphanOwners(p)) controller.enqueue(o);
    },
    delete: (p) => {
      const k = ownerKeyOf(p);
      if (k) { expectations.deletionObserved(k, keyOf(p)); controller.enqueue(k); }
    },
  });
  return { controller, deps, run: (signal) => controller.run(signal) };
}

export const replicationControllerController = (ctx: ControllerContext) => replicaSetController(ctx, replicationControllerKind);
