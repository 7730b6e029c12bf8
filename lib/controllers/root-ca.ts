// Root CA publisher: a `kube-root-ca.crt` ConfigMap holding the cluster CA in every active namespace, kept equal.
import { core, isAlreadyExists, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import type { Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import type { ControllerContext, Runnable } from './context.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export interface RootCADeps {
  client: Pick<Client, 'create' | 'update'>;
  namespaces: Lister;
  configMaps: Lister;
  caPem: string;
}

export async function reconcileRootCA(d: RootCADeps, ns: string): Promise<void> {
  const n = d.namespaces.get(ns);
  if (!n || n.metadata.deletionTimestamp || n.status?.phase === 'Terminating') return;
  const cm = d.configMaps.get(ROOT_CA_CONFIGMAP, ns);
  const data = { 'ca.crt': d.caPem };
  if (!cm) {
    try {
      await d.client.create(core('configmaps'), {
        apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, namespace: ns, annotations: { 'kubernetes.io/description': DESCRIPTION } }, data,
      }, ns);
    } catch (e) {
      if (!isAlreadyExists(e) && !isNotFound(e) && !String((e as Error).message).includes('terminat')) throw e;
    }
    return;
  }
  if (cm.data?.['ca.crt'] === d.caPem && Object.keys(cm.data ?? {}).length === 1) return;
  const upd = structuredClone(cm) as KubeObject;
  upd.data = data;
  upd.metadata.annotations = { ...upd.metadata.annotations, 'kubernetes.io/description': DESCRIPTION };
  await d.client.update(core('configmaps'), upd);
}

export function rootCAController(ctx: ControllerContext): Runnable & { controller?: Controller } {
  if (!ctx.caPem) return { run: async () => {} };
  const namespaces = ctx.factory.informer(core('namespaces'));
  const configMaps = ctx.factory.informer(core('configmaps'), { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` });
  const deps: RootCADeps = { client: ctx.client, namespaces: namespaces.lister, configMaps: configMaps.lister, caPem: ctx.caPem };
  const controller = new Controller({ name: 'root-ca-cert-publisher', clock: ctx.clock, reconcile: (k) => reconcileRootCA(deps, k) });
  namespaces.addHandler({ add: (n) => controller.enqueue(n.metadata.name!), update: (_o, n) => controller.enqueue(n.metadata.name!) });
  configMaps.addHandler({ update: (_o, c) => controller.enqueue(c.metadata.namespace!), delete: (c) => controller.enqueue(c.metadata.namespace!) });
  return { controller, run: (signal) => controller.run(signal) };
}
