// Local-path provisioner (k3s's rancher.io/local-path, in-process): the default StorageClass `local-path`
// (WaitForFirstConsumer, reclaim Delete) and a controller that, once the scheduler picked a node for a claim of a
// class with this provisioner, creates a hostPath PersistentVolume `pvc-<uid>` at
// <storage-dir>/pvc-<uid>_<namespace>_<name> pinned to that node and pre-bound to the claim (the PV binder then
// binds both). The node's storage dir comes from its `tsk.io/storage-dir` annotation, else /var/lib/tsk/storage.
// The kubelet creates the directory when a pod mounts the claim; lib/agent/kubelet/pvc-volume-gc.ts removes it once
// the volume is gone. Disabled with `--disable local-storage`.
import { core, isAlreadyExists, type Client, type KubeObject } from '../client/types.ts';
import type { Lister } from '../controller/cache.ts';
import { splitKey } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import { logger } from '../log/logger.ts';
import { SELECTED_NODE } from '../scheduler/filters.ts';
import type { ControllerContext, Runnable } from './context.ts';

const log = logger('controllers/local-path');

export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
export const LOCAL_PATH_CLASS_NAME = 'local-path';
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
/** Node annotation naming the directory local-path volumes live in on that node. */
export const STORAGE_DIR_ANNOTATION = 'tsk.io/storage-dir';
export const DEFAULT_STORAGE_DIR = '/var/lib/tsk/storage';
export const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';

const pvcsRef = core('persistentvolumeclaims');
const pvsRef = core('persistentvolumes');
const classesRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };

/** The default StorageClass k3s ships. */
export function localPathStorageClass(): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
    metadata: { name: LOCAL_PATH_CLASS_NAME, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER, volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete',
  };
}

/** Creates the `local-path` StorageClass unless it exists (a user's edits are kept). Call at server start. */
export async function ensureLocalPathStorageClass(client: Pick<Client, 'create'>): Promise<void> {
  try {
    await client.create(classesRef, localPathStorageClass());
    log.info('created the default StorageClass', { name: LOCAL_PATH_CLASS_NAME });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

/** The directory name of a claim's volume: pvc-<uid>_<namespace>_<name> (as k3s). */
export const volumeDirName = (pvc: KubeObject) => `pvc-${pvc.metadata.uid}_${pvc.metadata.namespace}_${pvc.metadata.name}`;

/** The storage directory on the node (its annotation, else the default). */
export const nodeStorageDir = (node: KubeObject | undefined) => node?.metadata.annotations?.[STORAGE_DIR_ANNOTATION] || DEFAULT_STORAGE_DIR;

/** The PersistentVolume for a claim on a node. Pure. */
export function localPathVolume(pvc: KubeObject, sc: KubeObject, nodeName: string, storageDir: string): KubeObject {
  const path = `${storageDir.replace(/\/+$/, '')}/${volumeDirName(pvc)}`;
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name: `pvc-${pvc.metadata.uid}`, annotations: { [PROVISIONED_BY]: sc.provisioner, 'local.path.provisioner/selected-node': nodeName } },
    spec: {
      capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '0' },
      accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
      hostPath: { path, type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] }] } },
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid },
    },
  };
}

export interface LocalPathDeps {
  client: Pick<Client, 'create'>;
  pvcs: Lister;
  pvs: Lister;
  classes: Lister;
  nodes: Lister;
}

/** Provisions the claim's volume when it is ours, unbound, has its node chosen and has no volume yet. */
export async function reconcileLocalPath(deps: LocalPathDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const pvc = deps.pvcs.get(name, namespace);
  if (!pvc || pvc.metadata.deletionTimestamp || pvc.spec?.volumeName || !pvc.spec?.storageClassName) return;
  const sc = deps.classes.get(pvc.spec.storageClassName);
  if (!sc || sc.provisioner !== LOCAL_PATH_PROVISIONER) return;
  // Like k3s: a volume lives on one node, so it waits for the scheduler's choice.
  const nodeName = pvc.metadata.annotations?.[SELECTED_NODE];
  if (!nodeName) return;
  const pv = localPathVolume(pvc, sc, nodeName, nodeStorageDir(deps.nodes.get(nodeName)));
  if (deps.pvs.get(pv.metadata.name!)) return;
  try {
    await deps.client.create(pvsRef, pv);
    log.info('provisioned', { claim: key, volume: pv.metadata.name, node: nodeName, path: pv.spec.hostPath.path });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

/** For the controller manager's list: `'local-storage': initLocalPathController`. */
export function initLocalPathController(ctx: ControllerContext): Runnable {
  const pvcs = ctx.factory.informer(pvcsRef);
  const pvs = ctx.factory.informer(pvsRef);
  const classes = ctx.factory.informer(classesRef);
  const nodes = ctx.factory.informer(core('nodes'));
  const deps: LocalPathDeps = { client: ctx.client, pvcs: pvcs.lister, pvs: pvs.lister, classes: classes.lister, nodes: nodes.lister };
  const c = new Controller({ name: 'local-path-provisioner', clock: ctx.clock, reconcile: (key) => reconcileLocalPath(deps, key) });
  c.watch(pvcs);
  // A deleted volume of a still-unbound claim is made again.
  c.watch(pvs, (v) => (v.spec?.claimRef ? `${v.spec.claimRef.namespace}/${v.spec.claimRef.name}` : undefined));
  c.watch(classes, (sc) => pvcs.lister.list().filter((p) => p.spec?.storageClassName === sc.metadata.name && !p.spec?.volumeName).map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
  return c;
}
