// PersistentVolume binder (kube-controller-manager's persistentvolume-binder, simplified): binds claims to matching
// Available volumes (or to the volume a provisioner made for them, pre-bound through spec.claimRef), keeps the
// phases (claim Pending/Bound/Lost, volume Available/Bound/Released) and reclaims volumes whose claim is gone
// (Delete → the volume is deleted; Retain/Recycle → it stays Released). Claims of a WaitForFirstConsumer class
// wait for the scheduler's volume.kubernetes.io/selected-node annotation and only take volumes that node can reach.
import { core, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import type { Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import { matchesSelector, type LabelSelector } from '../controller/selector.ts';
import { logger } from '../log/logger.ts';
import { matchesNodeSelectorTerm } from '../scheduler/affinity.ts';
import { SELECTED_NODE } from '../scheduler/filters.ts';
import { parseQuantity } from '../scheduler/quantity.ts';
import type { ControllerContext, Runnable } from './context.ts';

const log = logger('controllers/pv-binder');

export const BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** Keeps a claim that a pod still uses from going away (its volume, and local-path data, would be deleted under it). */
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';

const pvcsRef = core('persistentvolumeclaims');
const pvsRef = core('persistentvolumes');
const classesRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };

export interface BinderDeps {
  client: Pick<Client, 'get' | 'update' | 'delete'>;
  pvcs: Lister;
  pvs: Lister;
  classes: Lister;
  nodes: Lister;
  /** Pods, for PVC protection (absent: no protection). */
  pods?: Lister;
}

/** Whether a pod that has not terminated mounts the claim. */
export function claimInUse(pvc: KubeObject, pods: KubeObject[]): boolean {
  return pods.some((p) => p.metadata.namespace === pvc.metadata.namespace && !['Succeeded', 'Failed'].includes(p.status?.phase)
    && (p.spec?.volumes ?? []).some((v: { persistentVolumeClaim?: { claimName?: string } }) => v.persistentVolumeClaim?.claimName === pvc.metadata.name));
}

/** PVC protection: adds the finalizer to live claims; removes it from deleted ones no pod uses. Returns the claim to go on with. */
async function protect(deps: BinderDeps, pvc: KubeObject): Promise<KubeObject | undefined> {
  if (!deps.pods) return pvc.metadata.deletionTimestamp ? undefined : pvc;
  const has = (pvc.metadata.finalizers ?? []).includes(PVC_PROTECTION);
  if (pvc.metadata.deletionTimestamp) {
    if (has && !claimInUse(pvc, deps.pods.list(pvc.metadata.namespace))) {
      const next = structuredClone(pvc) as KubeObject;
      next.metadata.finalizers = next.metadata.finalizers!.filter((f) => f !== PVC_PROTECTION);
      await deps.client.update(pvcsRef, next);
    }
    return undefined;
  }
  if (has) return pvc;
  const next = structuredClone(pvc) as KubeObject;
  next.metadata.finalizers = [...(next.metadata.finalizers ?? []), PVC_PROTECTION];
  return deps.client.update(pvcsRef, next);
}

const claimKey = (ns: string | undefined, name: string) => `pvc:${ns ?? ''}/${name}`;
const volumeKey = (name: string) => `pv:${name}`;

/** Whether the volume's claimRef names this claim (a claimRef without uid is a pre-binding to the name). */
export function claimRefMatches(pv: KubeObject, pvc: KubeObject): boolean {
  const r = pv.spec?.claimRef;
  if (!r || r.name !== pvc.metadata.name || (r.namespace ?? '') !== (pvc.metadata.namespace ?? '')) return false;
  return !r.uid || r.uid === pvc.metadata.uid;
}

/** The node object to test volume node affinity against (a stand-in with the hostname label when unknown). */
function nodeFor(name: string, nodes: Lister): KubeObject {
  return nodes.get(name) ?? { metadata: { name, labels: { 'kubernetes.io/hostname': name } } };
}

/** Whether the volume's spec.nodeAffinity admits the node (no affinity: any node). */
export function volumeAdmitsNode(pv: KubeObject, node: KubeObject): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  return !terms?.length || terms.some((t: Parameters<typeof matchesNodeSelectorTerm>[0]) => matchesNodeSelectorTerm(t, node));
}

/**
 * The volume to bind the claim to: one pre-bound to it, else the smallest Available volume of the claim's class,
 * volume mode, access modes, size and selector (admitting `node` when given). Pure.
 */
export function findMatchingVolume(pvc: KubeObject, pvs: KubeObject[], node?: KubeObject): KubeObject | undefined {
  const usable = pvs.filter((pv) => !pv.metadata.deletionTimestamp && !['Released', 'Failed'].includes(pv.status?.phase) && (!node || volumeAdmitsNode(pv, node)));
  const pre = usable.find((pv) => claimRefMatches(pv, pvc));
  if (pre) return pre;
  const want = parseQuantity(pvc.spec?.resources?.requests?.storage);
  const modes: string[] = pvc.spec?.accessModes ?? [];
  const cls = pvc.spec?.storageClassName ?? '';
  const candidates = usable.filter((pv) => !pv.spec?.claimRef
    && (pv.spec?.storageClassName ?? '') === cls
    && (pv.spec?.volumeMode ?? 'Filesystem') === (pvc.spec?.volumeMode ?? 'Filesystem')
    && modes.every((m) => (pv.spec?.accessModes ?? []).includes(m))
    && parseQuantity(pv.spec?.capacity?.storage) >= want
    && (!pvc.spec?.selector || matchesSelector(pvc.spec.selector as LabelSelector, pv.metadata.labels)));
  candidates.sort((a, b) => parseQuantity(a.spec?.capacity?.storage) - parseQuantity(b.spec?.capacity?.storage) || String(a.metadata.name).localeCompare(String(b.metadata.name)));
  return candidates[0];
}

async function setVolumePhase(deps: BinderDeps, pv: KubeObject, phase: string): Promise<KubeObject> {
  if (pv.status?.phase === phase) return pv;
  const next = structuredClone(pv) as KubeObject;
  next.status = { ...(next.status ?? {}), phase };
  if (phase !== 'Released' && phase !== 'Failed') delete next.status.reason;
  return deps.client.update(pvsRef, next, 'status');
}

async function setClaimStatus(deps: BinderDeps, pvc: KubeObject, pv: KubeObject | undefined, phase: string): Promise<void> {
  const status: Record<string, unknown> = { ...(pvc.status ?? {}), phase };
  if (pv && phase === 'Bound') {
    status.capacity = pv.spec?.capacity;
    status.accessModes = pv.spec?.accessModes;
  }
  if (phase === 'Pending') { delete status.capacity; delete status.accessModes; }
  const cur = pvc.status ?? {};
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (cur.phase === phase && same(cur.capacity?.storage, (status.capacity as { storage?: string } | undefined)?.storage) && same(cur.accessModes, status.accessModes)) return;
  const next = structuredClone(pvc) as KubeObject;
  next.status = status;
  await deps.client.update(pvcsRef, next, 'status');
}

/** Binds claim and volume: the volume's claimRef and phase, then the claim's volumeName, annotations and phase. */
async function bind(deps: BinderDeps, pvc: KubeObject, pv: KubeObject): Promise<void> {
  let vol = pv;
  const ref = vol.spec?.claimRef;
  if (!ref?.uid || ref.uid !== pvc.metadata.uid) {
    const next = structuredClone(vol) as KubeObject;
    next.spec.claimRef = {
      kind: 'PersistentVolumeClaim', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid,
      apiVersion: 'v1', resourceVersion: pvc.metadata.resourceVersion,
    };
    if (!ref) next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [BOUND_BY_CONTROLLER]: 'yes' };
    vol = await deps.client.update(pvsRef, next);
  }
  vol = await setVolumePhase(deps, vol, 'Bound');
  let claim = pvc;
  if (claim.spec?.volumeName !== vol.metadata.name || claim.metadata.annotations?.[BIND_COMPLETED] !== 'yes') {
    const next = structuredClone(claim) as KubeObject;
    const byUs = !claim.spec?.volumeName;
    next.spec.volumeName = vol.metadata.name;
    next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [BIND_COMPLETED]: 'yes', ...(byUs ? { [BOUND_BY_CONTROLLER]: 'yes' } : {}) };
    claim = await deps.client.update(pvcsRef, next);
    log.info('bound', { claim: `${pvc.metadata.namespace}/${pvc.metadata.name}`, volume: vol.metadata.name });
  }
  await setClaimStatus(deps, claim, vol, 'Bound');
}

export async function reconcileClaim(deps: BinderDeps, namespace: string, name: string): Promise<void> {
  const cached = deps.pvcs.get(name, namespace);
  if (!cached) return;
  const pvc = await protect(deps, cached);
  if (!pvc) return;
  const volumeName = pvc.spec?.volumeName as string | undefined;
  if (volumeName) {
    const pv = deps.pvs.get(volumeName);
    if (!pv) {
      // Bound earlier and the volume is gone: Lost. Pre-bound to a volume that does not exist yet: Pending.
      await setClaimStatus(deps, pvc, undefined, pvc.status?.phase === 'Bound' || pvc.status?.phase === 'Lost' ? 'Lost' : 'Pending');
      return;
    }
    const ref = pv.spec?.claimRef;
    if (ref && !claimRefMatches(pv, pvc)) return setClaimStatus(deps, pvc, undefined, 'Pending'); // the volume belongs to another claim
    return bind(deps, pvc, pv);
  }
  const cls = pvc.spec?.storageClassName ? deps.classes.get(pvc.spec.storageClassName) : undefined;
  let node: KubeObject | undefined;
  if (cls?.volumeBindingMode === 'WaitForFirstConsumer') {
    const selected = pvc.metadata.annotations?.[SELECTED_NODE];
    // Not yet consumed: stay Pending until the scheduler picks a node (pre-bound volumes still bind).
    if (!selected) {
      const pre = deps.pvs.list().find((pv) => claimRefMatches(pv, pvc) && !pv.metadata.deletionTimestamp);
      if (!pre) return setClaimStatus(deps, pvc, undefined, 'Pending');
    } else {
      node = nodeFor(selected, deps.nodes);
    }
  }
  const pv = findMatchingVolume(pvc, deps.pvs.list(), node);
  if (!pv) return setClaimStatus(deps, pvc, undefined, 'Pending');
  await bind(deps, pvc, pv);
}

export async function reconcileVolume(deps: BinderDeps, name: string): Promise<void> {
  const pv = deps.pvs.get(name);
  if (!pv || pv.metadata.deletionTimestamp) return;
  const ref = pv.spec?.claimRef;
  if (!ref) {
    await setVolumePhase(deps, pv, 'Available');
    return;
  }
  let claim = deps.pvcs.get(ref.name, ref.namespace);
  if (!claim && ref.uid) {
    // The cache may lag behind a claim just created: ask the API server before releasing anything.
    try {
      claim = await deps.client.get(pvcsRef, ref.name, ref.namespace);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  if (claim && (!ref.uid || claim.metadata.uid === ref.uid)) {
    // Bound when the claim points back; otherwise Available until the claim side binds it.
    await setVolumePhase(deps, pv, claim.spec?.volumeName === pv.metadata.name ? 'Bound' : (pv.status?.phase === 'Bound' ? 'Bound' : 'Available'));
    return;
  }
  if (!ref.uid) {
    await setVolumePhase(deps, pv, 'Available');
    return;
  }
  // The claim it was bound to is gone: release and reclaim.
  const released = await setVolumePhase(deps, pv, 'Released');
  if ((pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain') !== 'Delete') return;
  try {
    await deps.client.delete(pvsRef, name, undefined, { preconditions: { uid: released.metadata.uid } });
    log.info('deleted released volume', { volume: name, claim: `${ref.namespace}/${ref.name}` });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** Reconciles one binder key: `pvc:<namespace>/<name>` or `pv:<name>`. */
export async function reconcileBinderKey(deps: BinderDeps, key: string): Promise<void> {
  if (key.startsWith('pv:')) return reconcileVolume(deps, key.slice(3));
  const rest = key.slice(4);
  const i = rest.indexOf('/');
  return reconcileClaim(deps, rest.slice(0, i), rest.slice(i + 1));
}

/** For the controller manager's list: `'persistentvolume-binder': initPvBinderController`. */
export function initPvBinderController(ctx: ControllerContext): Runnable {
  const pvcs = ctx.factory.informer(pvcsRef);
  const pvs = ctx.factory.informer(pvsRef);
  const classes = ctx.factory.informer(classesRef);
  const nodes = ctx.factory.informer(core('nodes'));
  const pods = ctx.factory.informer(core('pods'));
  const deps: BinderDeps = { client: ctx.client, pvcs: pvcs.lister, pvs: pvs.lister, classes: classes.lister, nodes: nodes.lister, pods: pods.lister };
  const c = new Controller({ name: 'persistentvolume-binder', clock: ctx.clock, reconcile: (key) => reconcileBinderKey(deps, key) });
  const unbound = () => pvcs.lister.list().filter((p) => !p.spec?.volumeName && !p.metadata.deletionTimestamp).map((p) => claimKey(p.metadata.namespace, p.metadata.name!));
  // A claim event: the claim, its volume, and volumes pointing at it (a deleted claim releases them).
  c.watch(pvcs, (p) => [
    claimKey(p.metadata.namespace, p.metadata.name!),
    ...(p.spec?.volumeName ? [volumeKey(p.spec.volumeName)] : []),
    ...pvs.lister.list().filter((v) => v.spec?.claimRef?.name === p.metadata.name && v.spec?.claimRef?.namespace === p.metadata.namespace).map((v) => volumeKey(v.metadata.name!)),
  ]);
  // A volume event: the volume, the claim it names, and (when it is free) every unbound claim that might take it.
  c.watch(pvs, (v) => [
    volumeKey(v.metadata.name!),
    ...(v.spec?.claimRef ? [claimKey(v.spec.claimRef.namespace, v.spec.claimRef.name)] : unbound()),
  ]);
  c.watch(classes, () => unbound());
  // A pod going away may release a deleted claim it used.
  c.watch(pods, (p) => (p.spec?.volumes ?? []).filter((v: { persistentVolumeClaim?: unknown }) => v.persistentVolumeClaim)
    .map((v: { persistentVolumeClaim: { claimName: string } }) => claimKey(p.metadata.namespace, v.persistentVolumeClaim.claimName))
    .filter((k: string) => pvcs.lister.getByKey(k.slice(4))?.metadata.deletionTimestamp));
  return c;
}
