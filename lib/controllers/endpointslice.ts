// EndpointSlice controller: for every Service with a selector, discovery.k8s.io/v1 EndpointSlices (at most 100
// endpoints each) per address type and resolved port set, owned by the Service, labelled
// kubernetes.io/service-name and managed-by endpointslice-controller.k8s.io. Terminating pods stay listed with
// ready=false/terminating=true. Existing slices are reused in place; writes only on difference.
import { core, discovery, isNotFound, type Client, type KubeObject, type OwnerReference } from '../client/types.ts';
import { splitKey, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import { Expectations } from '../controller/expectations.ts';
import { isPodReady, stableStringify } from './controller-revision.ts';
import type { ControllerContext, Runnable } from './context.ts';
import { podHostname, resolvePorts, selectedPods, servicesForPod, type ResolvedPort } from './endpoints.ts';

const slicesRef = discovery('endpointslices');
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
const MAX_ENDPOINTS = 100;

export interface EndpointSliceDeps {
  client: Pick<Client, 'create' | 'update' | 'delete'>;
  services: Lister;
  pods: Lister;
  slices: Lister;
  /** Slices created but not yet seen by the informer (generateName would otherwise duplicate them). */
  expectations?: Expectations;
}

export interface Desired { addressType: string; ports: ResolvedPort[]; endpoints: KubeObject[] }

export function desiredSlices(svc: KubeObject, pods: readonly KubeObject[]): Desired[] {
  const groups = new Map<string, Desired>();
  for (const p of pods) {
    const ports = resolvePorts(svc, p);
    if ((svc.spec?.ports ?? []).length && !ports.length) continue;
    const ip: string = p.status.podIP;
    const addressType = ip.includes(':') ? 'IPv6' : 'IPv4';
    const families: string[] | undefined = svc.spec?.ipFamilies;
    if (families?.length && !families.includes(addressType)) continue;
    const k = `${addressType}|${stableStringify(ports)}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { addressType, ports, endpoints: [] }));
    const terminating = !!p.metadata.deletionTimestamp;
    const ready = isPodReady(p);
    const ep: Record<string, unknown> = {
      addresses: [ip],
      conditions: { ready: (ready && !terminating) || !!svc.spec?.publishNotReadyAddresses, serving: ready, terminating },
      targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
    };
    const hn = podHostname(svc, p);
    if (hn) ep.hostname = hn;
    if (p.spec?.nodeName) ep.nodeName = p.spec.nodeName;
    g.endpoints.push(ep as KubeObject);
  }
  const out: Desired[] = [];
  for (const g of groups.values()) {
    g.endpoints.sort((a, b) => (a.addresses[0] < b.addresses[0] ? -1 : 1));
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS) out.push({ ...g, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS) });
  }
  if (!out.length) out.push({ addressType: 'IPv4', ports: resolvePorts(svc, { metadata: {}, spec: {} }), endpoints: [] });
  return out;
}

export async function reconcileEndpointSlices(d: EndpointSliceDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  if (d.expectations && !d.expectations.satisfied(key)) return;
  const svc = d.services.get(name, namespace);
  if (!svc || !svc.spec?.selector || !Object.keys(svc.spec.selector).length) return applySlices(d, key, { namespace: namespace!, service: name, managedBy: MANAGED_BY });
  const labels: Record<string, string> = { ...svc.metadata.labels };
  if (svc.spec?.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
  const owner = { apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true };
  return applySlices(d, key, { namespace: namespace!, service: name, managedBy: MANAGED_BY, labels, owner, desired: desiredSlices(svc, selectedPods(svc, d.pods)) });
}

export interface SliceSet {
  namespace: string;
  service: string;
  managedBy: string;
  labels?: Record<string, string>;
  owner?: OwnerReference;
  /** Absent: delete every slice of this service managed by managedBy. */
  desired?: Desired[];
}

/** Makes the slices labelled service-name/managed-by equal to `desired`, reusing existing slices in place. */
export async function applySlices(d: Pick<EndpointSliceDeps, 'client' | 'slices' | 'expectations'>, key: string, set: SliceSet): Promise<void> {
  const { namespace, service, managedBy } = set;
  const existing = d.slices.list(namespace, { [SERVICE_NAME_LABEL]: service, [MANAGED_BY_LABEL]: managedBy });
  const labels = { ...set.labels, [SERVICE_NAME_LABEL]: service, [MANAGED_BY_LABEL]: managedBy };
  let creates = 0;
  const unused = [...existing].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
  for (const want of set.desired ?? []) {
    const body = { addressType: want.addressType, endpoints: want.endpoints, ports: want.ports };
    const i = unused.findIndex((s) => s.addressType === want.addressType && stableStringify(s.ports ?? []) === stableStringify(want.ports));
    const j = i >= 0 ? i : unused.findIndex((s) => s.addressType === want.addressType);
    if (j >= 0) {
      const cur = unused.splice(j, 1)[0]!;
      if (stableStringify({ e: cur.endpoints ?? [], p: cur.ports ?? [], l: cur.metadata.labels ?? {} }) === stableStringify({ e: body.endpoints, p: body.ports, l: labels })) continue;
      const upd = structuredClone(cur) as KubeObject;
      Object.assign(upd, { endpoints: body.endpoints, ports: body.ports });
      upd.metadata.labels = labels;
      await d.client.update(slicesRef, upd);
      continue;
    }
    d.expectations?.expect(key, ++creates);
    try {
      await d.client.create(slicesRef, {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { generateName: `${service}-`, namespace, labels, ...(set.owner ? { ownerReferences: [set.owner] } : {}) }, ...body,
      }, namespace);
    } catch (e) {
      d.expectations?.lowerAdds(key);
      throw e;
    }
  }
  for (const s of unused) await d.client.delete(slicesRef, s.metadata.name!, namespace).catch(ignoreNotFound);
}

function ignoreNotFound(e: unknown): void {
  if (!isNotFound(e)) throw e;
}

export function endpointSliceController(ctx: ControllerContext): Runnable & { controller: Controller } {
  const services = ctx.factory.informer(core('services'));
  const pods = ctx.factory.informer(core('pods'));
  const slices = ctx.factory.informer(slicesRef);
  const expectations = new Expectations(ctx.clock);
  const deps: EndpointSliceDeps = { client: ctx.client, services: services.lister, pods: pods.lister, slices: slices.lister, expectations };
  const controller = new Controller({ name: 'endpointslice', clock: ctx.clock, workers: 2, reconcile: (k) => reconcileEndpointSlices(deps, k) });
  controller.watch(services);
  pods.addHandler({
    add: (p) => { for (const k of servicesForPod(services.lister, p)) controller.enqueue(k); },
    update: (o, p) => { if (o !== p) for (const k of servicesForPod(services.lister, o, p)) controller.enqueue(k); },
    delete: (p) => { for (const k of servicesForPod(services.lister, p)) controller.enqueue(k); },
  });
  const svcOf = (s: KubeObject) => (s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && s.metadata.labels?.[SERVICE_NAME_LABEL] ? `${s.metadata.namespace}/${s.metadata.labels[SERVICE_NAME_LABEL]}` : undefined);
  slices.addHandler({ add: (s) => { const k = svcOf(s); if (k) { expectations.creationObserved(k); controller.enqueue(k); } }, update: (o, s) => { const k = svcOf(s); if (o !== s && k) controller.enqueue(k); }, delete: (s) => { const k = svcOf(s); if (k) controller.enqueue(k); } });
  return { controller, run: (signal) => controller.run(signal) };
}
