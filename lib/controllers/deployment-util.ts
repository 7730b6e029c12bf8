// Pure helpers of the Deployment controller: template hashing, new/old ReplicaSet split, revision numbers,
// maxSurge/maxUnavailable resolution, and the rolling-update arithmetic (Kubernetes' rolling.go), as data in, data out.
import type { KubeObject } from '../client/types.ts';
import { hashOf, stableStringify } from './controller-revision.ts';

export const HASH_LABEL = 'pod-template-hash';
export const REVISION = 'deployment.kubernetes.io/revision';
export const DESIRED = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const NOT_COPIED = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION, 'deployment.kubernetes.io/revision-history', DESIRED, MAX_REPLICAS]);

export const revisionOf = (o: KubeObject): number => Number(o.metadata.annotations?.[REVISION] ?? 0) || 0;
export const replicasOf = (rs: KubeObject): number => rs.spec?.replicas ?? 0;

/** The template without the pod-template-hash label, for comparing a ReplicaSet with its Deployment. */
export function templateKey(tmpl: KubeObject | undefined): string {
  const t = structuredClone(tmpl ?? {}) as KubeObject;
  if (t.metadata?.labels) {
    delete t.metadata.labels[HASH_LABEL];
    if (!Object.keys(t.metadata.labels).length) delete t.metadata.labels;
  }
  return stableStringify(t);
}

export const templateHash = (d: KubeObject): string => hashOf(JSON.parse(templateKey(d.spec?.template)), d.status?.collisionCount ?? 0);

/** The newest ReplicaSet whose template equals the Deployment's (oldest first among equals, as k8s), and the rest. */
export function splitReplicaSets(d: KubeObject, rss: readonly KubeObject[]): { newRS?: KubeObject; old: KubeObject[] } {
  const want = templateKey(d.spec?.template);
  const sorted = [...rss].sort((a, b) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? '') || (a.metadata.name! < b.metadata.name! ? -1 : 1));
  const newRS = sorted.find((rs) => templateKey(rs.spec?.template) === want);
  return { newRS, old: sorted.filter((rs) => rs !== newRS) };
}

export function maxRevision(rss: readonly KubeObject[]): number {
  return Math.max(0, ...rss.map(revisionOf));
}

/** Annotations a ReplicaSet inherits from its Deployment (change-cause etc.) plus the bookkeeping ones. */
export function rsAnnotations(d: KubeObject, revision: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((d.metadata.annotations ?? {}) as Record<string, string>)) if (!NOT_COPIED.has(k)) out[k] = v;
  out[REVISION] = String(revision);
  out[DESIRED] = String(d.spec?.replicas ?? 1);
  out[MAX_REPLICAS] = String((d.spec?.replicas ?? 1) + resolveFenceposts(d).maxSurge);
  return out;
}

function intOrPercent(v: number | string | undefined, total: number, roundUp: boolean, dflt: string): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) return Number(x) || 0;
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

export function resolveFenceposts(d: KubeObject): { maxSurge: number; maxUnavailable: number } {
  if (d.spec?.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: 0 };
  const desired = d.spec?.replicas ?? 1;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const maxSurge = intOrPercent(ru.maxSurge, desired, true, '25%');
  let maxUnavailable = intOrPercent(ru.maxUnavailable, desired, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, desired) };
}

/** Replica count the new ReplicaSet should have now (rolling update scale-up step). */
export function newRSReplicas(d: KubeObject, all: readonly KubeObject[], newRS: KubeObject): number {
  const desired = d.spec?.replicas ?? 1;
  const cur = replicasOf(newRS);
  if (cur >= desired) return desired;
  const { maxSurge } = resolveFenceposts(d);
  const total = all.reduce((s, rs) => s + replicasOf(rs), 0);
  const maxTotal = desired + maxSurge;
  if (total >= maxTotal) return cur;
  return cur + Math.max(0, Math.min(maxTotal - total, desired - cur));
}

/** New replica counts for old ReplicaSets (rolling update scale-down step); only changed ones are returned. */
export function scaleDownOld(d: KubeObject, old: readonly KubeObject[], newRS: KubeObject | undefined): Map<KubeObject, number> {
  const out = new Map<KubeObject, number>();
  const desired = d.spec?.replicas ?? 1;
  const oldCount = old.reduce((s, rs) => s + replicasOf(rs), 0);
  if (oldCount === 0) return out;
  const all = newRS ? [...old, newRS] : [...old];
  const allCount = all.reduce((s, rs) => s + replicasOf(rs), 0);
  const { maxUnavailable } = resolveFenceposts(d);
  const minAvailable = desired - maxUnavailable;
  const newUnavailable = newRS ? replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0) : 0;
  let budget = allCount - minAvailable - newUnavailable;
  if (budget <= 0) return out;
  const byAge = [...old].sort((a, b) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? ''));
  const next = new Map(byAge.map((rs) => [rs, replicasOf(rs)]));
  // First drop unhealthy (unavailable) replicas of old sets: they do not count toward availability.
  for (const rs of byAge) {
    if (budget <= 0) break;
    const cur = next.get(rs)!;
    const unhealthy = cur - (rs.status?.availableReplicas ?? 0);
    if (cur === 0 || unhealthy <= 0) continue;
    const n = Math.min(budget, unhealthy);
    next.set(rs, cur - n);
    budget -= n;
  }
  // Then available ones, keeping minAvailable.
  const available = all.reduce((s, rs) => s + Math.min(rs.status?.availableReplicas ?? 0, next.get(rs) ?? replicasOf(rs)), 0);
  let total = Math.min(budget, available - minAvailable);
  for (const rs of byAge) {
    if (total <= 0) break;
    const cur = next.get(rs)!;
    if (cur === 0) continue;
    const n = Math.min(cur, total);
    next.set(rs, cur - n);
    total -= n;
  }
  for (const [rs, n] of next) if (n !== replicasOf(rs)) out.set(rs, n);
  return out;
}

export interface DeploymentCondition { type: string; status: string; reason?: string; message?: string; lastUpdateTime?: string; lastTransitionTime?: string }

/** Sets a condition; keeps lastTransitionTime when status is unchanged, and the whole condition when nothing changed. */
export function setCondition(conds: DeploymentCondition[], c: Omit<DeploymentCondition, 'lastUpdateTime' | 'lastTransitionTime'>, now: string, bumpUpdate = false): DeploymentCondition[] {
  const cur = conds.find((x) => x.type === c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason && cur.message === c.message && !bumpUpdate) return conds;
  const next: DeploymentCondition = {
    ...c, lastUpdateTime: now,
    lastTransitionTime: cur && cur.status === c.status ? cur.lastTransitionTime : now,
  };
  return [...conds.filter((x) => x.type !== c.type), next].sort((a, b) => (a.type === 'Available' ? -1 : b.type === 'Available' ? 1 : 0));
}

const active = (rss: readonly (KubeObject | undefined)[]): KubeObject[] => rss.filter((r): r is KubeObject => !!r && replicasOf(r) > 0);

/** A Deployment scale change: some active ReplicaSet was sized for a different spec.replicas. */
export function isScalingEvent(d: KubeObject, rss: readonly KubeObject[]): boolean {
  const want = String(d.spec?.replicas ?? 1);
  return active(rss).some((rs) => rs.metadata.annotations?.[DESIRED] !== undefined && rs.metadata.annotations[DESIRED] !== want);
}

/**
 * Kubernetes' proportional scaling: the one active (or latest) ReplicaSet takes the whole count; a saturated new
 * set lets old ones go to zero; otherwise the change (bounded by maxSurge) is spread over the active sets in
 * proportion to their size, leftovers to the largest. Returns the new size for every set to (re)write.
 */
export function proportionalScale(d: KubeObject, newRS: KubeObject | undefined, old: readonly KubeObject[]): Map<KubeObject, number> {
  const out = new Map<KubeObject, number>();
  const desired = d.spec?.replicas ?? 1;
  const act = active([newRS, ...old]);
  if (act.length <= 1) {
    const target = act[0] ?? newRS ?? [...old].sort((a, b) => Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? ''))[0];
    if (target) out.set(target, desired);
    return out;
  }
  if (newRS && replicasOf(newRS) === desired && newRS.metadata.annotations?.[DESIRED] === String(desired) && (newRS.status?.availableReplicas ?? 0) === desired) {
    for (const rs of active(old)) out.set(rs, 0);
    return out;
  }
  if (d.spec?.strategy?.type === 'Recreate') return out;
  const total = act.reduce((s, rs) => s + replicasOf(rs), 0);
  const allowed = desired > 0 ? desired + resolveFenceposts(d).maxSurge : 0;
  const toAdd = allowed - total;
  const created = (rs: KubeObject) => Date.parse(rs.metadata.creationTimestamp ?? '');
  // Largest first; ties: newer first when growing, older first when shrinking.
  act.sort((a, b) => replicasOf(b) - replicasOf(a) || (toAdd > 0 ? created(b) - created(a) : created(a) - created(b)));
  let added = 0;
  const size = new Map<KubeObject, number>();
  for (const rs of act) {
    let p = 0;
    if (toAdd !== 0 && replicasOf(rs) !== 0 && toAdd !== added) {
      const annotated = Number(rs.metadata.annotations?.[MAX_REPLICAS]) || d.status?.replicas || total;
      const fraction = desired === 0 ? -replicasOf(rs) : Math.round((replicasOf(rs) * allowed) / annotated) - replicasOf(rs);
      p = toAdd > 0 ? Math.min(fraction, toAdd - added) : Math.max(fraction, toAdd - added);
    }
    size.set(rs, replicasOf(rs) + p);
    added += p;
  }
  if (toAdd !== 0) size.set(act[0]!, Math.max(0, size.get(act[0]!)! + toAdd - added));
  for (const rs of act) out.set(rs, size.get(rs)!);
  return out;
}
