// ControllerRevision history shared by the DaemonSet and StatefulSet controllers (what `kubectl rollout history`
// and `rollout undo` read), plus the small pod and owner helpers those workload controllers share.
import { apps, isAlreadyExists, type Client, type KubeObject, type OwnerReference } from '../client/types.ts';
import type { Controller } from '../controller/controller.ts';
import type { Expectations } from '../controller/expectations.ts';
import type { Informer } from '../controller/informer.ts';

export const REVISION_HASH_LABEL = 'controller-revision-hash';
export const revisionsRef = apps('controllerrevisions');

/** Stable JSON: object keys sorted, so equal objects hash equally. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(',')}}`;
}

function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** A short label-safe hash of data (+ collision count), alphabet as Kubernetes' rand.SafeEncodeString. */
export function hashOf(data: unknown, collisionCount = 0): string {
  const n = fnv32a(stableStringify(data) + (collisionCount ? String(collisionCount) : ''));
  return [...String(n)].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

export function ownerRefFor(owner: KubeObject, kind: string, apiVersion = 'apps/v1'): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller);
}

export const isOwnedBy = (obj: KubeObject, owner: KubeObject): boolean => controllerOf(obj)?.uid === owner.metadata.uid;

// ---- pods ----
export const podCondition = (pod: KubeObject, type: string) =>
  (pod.status?.conditions as { type: string; status: string; lastTransitionTime?: string }[] | undefined)?.find((c) => c.type === type);

export const isPodReady = (pod: KubeObject): boolean => podCondition(pod, 'Ready')?.status === 'True';

/** Ready for at least minReadySeconds at `now`. */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  const c = podCondition(pod, 'Ready');
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0;
  return since + minReadySeconds * 1000 <= now;
}

export const isPodTerminal = (pod: KubeObject): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
export const isPodActive = (pod: KubeObject): boolean => !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;

// ---- revisions ----
export interface RevisionOwner {
  owner: KubeObject;
  kind: 'DaemonSet' | 'StatefulSet';
  /** Labels to put on revisions (the owner's template labels). */
  labels: Record<string, string>;
  /** What the revision records: {spec: {template: ...}} with `$patch: replace` as Kubernetes does. */
  data: unknown;
  collisionCount: number;
}

export const revisionNumber = (r: KubeObject): number => Number(r.revision ?? 0);
export const sortRevisions = (rs: readonly KubeObject[]): KubeObject[] => [...rs].sort((a, b) => revisionNumber(a) - revisionNumber(b) || (a.metadata.name! < b.metadata.name! ? -1 : 1));

export function revisionData(template: unknown): unknown {
  return { spec: { template: { ...(template as object), $patch: 'replace' } } };
}

/**
 * Finds or creates the revision for o.data among `existing` (the owner's revisions). An equal older revision is
 * re-numbered to become the newest (a rollback). Returns the revision and the possibly bumped collisionCount.
 */
export async function ensureRevision(client: Client, o: RevisionOwner, existing: readonly KubeObject[]): Promise<{ revision: KubeObject; collisionCount: number }> {
  const sorted = sortRevisions(existing);
  const max = sorted.length ? revisionNumber(sorted[sorted.length - 1]!) : 0;
  const want = stableStringify(o.data);
  const equal = sorted.filter((r) => stableStringify(r.data) === want);
  if (equal.length) {
    const r = equal[equal.length - 1]!;
    if (revisionNumber(r) === max) return { revision: r, collisionCount: o.collisionCount };
    const updated = await client.update(revisionsRef, { ...structuredClone(r), revision: max + 1 });
    return { revision: updated, collisionCount: o.collisionCount };
  }
  let collisionCount = o.collisionCount;
  for (let i = 0; i < 5; i++) {
    const hash = hashOf(o.data, collisionCount);
    const rev: KubeObject = {
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: {
        name: `${o.owner.metadata.name}-${hash}`, namespace: o.owner.metadata.namespace,
        labels: { ...o.labels, [REVISION_HASH_LABEL]: hash }, ownerReferences: [ownerRefFor(o.owner, o.kind)],
      },
      data: o.data, revision: max + 1,
    };
    try {
      return { revision: await client.create(revisionsRef, rev), collisionCount };
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      // Our cache may just not have it yet: the same data under that name is ours; only a true collision bumps the count.
      const found = await client.get(revisionsRef, rev.metadata.name!, rev.metadata.namespace);
      if (stableStringify(found.data) === want && found.metadata.ownerReferences?.some((r) => r.uid === o.owner.metadata.uid)) {
        return { revision: found, collisionCount };
      }
      collisionCount++;
    }
  }
  throw new Error(`could not create a unique ControllerRevision for ${o.owner.metadata.name}`);
}

/** Deletes the oldest revisions beyond limit that no live pod or status revision still uses. */
export async function truncateHistory(client: Client, revisions: readonly KubeObject[], live: Set<string>, limit = 10): Promise<void> {
  const old = sortRevisions(revisions).filter((r) => !live.has(r.metadata.name!) && !live.has(r.metadata.labels?.[REVISION_HASH_LABEL] ?? ''));
  const excess = old.length - limit;
  for (let i = 0; i < excess; i++) await client.delete(revisionsRef, old[i]!.metadata.name!, old[i]!.metadata.namespace);
}

/** The hash a revision's pods carry. */
export const revisionHash = (r: KubeObject): string => r.metadata.labels?.[REVISION_HASH_LABEL] ?? r.metadata.name!.slice(r.metadata.name!.lastIndexOf('-') + 1);

/** The work-queue key of obj's controller when it is of `kind` (for mapping child events to their owner). */
export function ownerKey(obj: KubeObject, kind: string): string | undefined {
  const ref = controllerOf(obj);
  if (!ref || ref.kind !== kind) return undefined;
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${ref.name}` : ref.name;
}

/**
 * Enqueues a child's controller of `kind` on every change, telling expectations about observed creations and
 * deletions (so a reconcile racing its own informer does not create or delete twice).
 */
export function watchChildren(c: Controller, informer: Informer, kind: string, expectations?: Expectations): void {
  const childKey = (p: KubeObject) => `${p.metadata.namespace}/${p.metadata.name}`;
  informer.addHandler({
    add: (p) => { const k = ownerKey(p, kind); if (k) { expectations?.creationObserved(k); c.enqueue(k); } },
    update: (old, p) => {
      const k = ownerKey(p, kind);
      const ok = ownerKey(old, kind);
      if (ok && ok !== k) c.enqueue(ok);
      if (!k) return;
      if (p.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) expectations?.deletionObserved(k, childKey(p));
      c.enqueue(k);
    },
    delete: (p) => { const k = ownerKey(p, kind); if (k) { expectations?.deletionObserved(k, childKey(p)); c.enqueue(k); } },
  });
}

/** Delays for enqueueAfter: at least 0 and at most a day (timers beyond 2^31-1 ms would fire at once). */
export const requeueDelay = (ms: number): number => Math.min(Math.max(0, ms), 24 * 3600_000);
