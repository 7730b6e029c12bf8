// EndpointSlice mirroring: Endpoints of Services without a selector (written by users or other tools) are mirrored
// into EndpointSlices managed by endpointslicemirroring-controller.k8s.io and owned by the Endpoints, so consumers
// of slices (service proxy, DNS) see them too. Endpoints labelled endpointslice.kubernetes.io/skip-mirror=true are
// left alone, as in Kubernetes.
import { core, discovery, type KubeObject } from '../client/types.ts';
import { splitKey, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import { Expectations } from '../controller/expectations.ts';
import type { ControllerContext, Runnable } from './context.ts';
import { applySlices, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, type Desired, type EndpointSliceDeps } from './endpointslice.ts';

export const MIRROR_MANAGED_BY = 'endpointslicemirroring-controller.k8s.io';
export const SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';
const MAX_ENDPOINTS = 100;

export interface MirroringDeps extends Pick<EndpointSliceDeps, 'client' | 'slices' | 'expectations'> {
  services: Lister;
  endpoints: Lister;
}

/** Slices equivalent to an Endpoints object: one group per subset and address family, 100 endpoints each. */
export function mirroredSlices(ep: KubeObject): Desired[] {
  const out: Desired[] = [];
  for (const subset of ep.subsets ?? []) {
    const ports = (subset.ports ?? []).map((p: { name?: string; port: number; protocol?: string; appProtocol?: string }) => {
      const r: Record<string, unknown> = { port: p.port, protocol: p.protocol ?? 'TCP' };
      if (p.name) r.name = p.name;
      if (p.appProtocol) r.appProtocol = p.appProtocol;
      return r;
    });
    const byFamily = new Map<string, KubeObject[]>();
    const add = (a: Record<string, any>, ready: boolean) => {
      const family = String(a.ip).includes(':') ? 'IPv6' : 'IPv4';
      const e: Record<string, unknown> = { addresses: [a.ip], conditions: { ready, serving: ready, terminating: false } };
      if (a.hostname) e.hostname = a.hostname;
      if (a.nodeName) e.nodeName = a.nodeName;
      if (a.targetRef) e.targetRef = a.targetRef;
      const l = byFamily.get(family) ?? [];
      l.push(e as KubeObject);
      byFamily.set(family, l);
    };
    for (const a of subset.addresses ?? []) add(a, true);
    for (const a of subset.notReadyAddresses ?? []) add(a, false);
    for (const [addressType, eps] of byFamily) {
      eps.sort((a, b) => (a.addresses[0] < b.addresses[0] ? -1 : 1));
      for (let i = 0; i < eps.length; i += MAX_ENDPOINTS) out.push({ addressType, ports: ports as Desired['ports'], endpoints: eps.slice(i, i + MAX_ENDPOINTS) });
    }
  }
  return out;
}

export async function reconcileMirroring(d: MirroringDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  if (d.expectations && !d.expectations.satisfied(key)) return;
  const svc = d.services.get(name, namespace);
  const ep = d.endpoints.get(name, namespace);
  const mirror = !!svc && !!ep && !(svc.spec?.selector && Object.keys(svc.spec.selector).length) && ep.metadata.labels?.[SKIP_MIRROR] !== 'true';
  if (!mirror) return applySlices(d, key, { namespace: namespace!, service: name, managedBy: MIRROR_MANAGED_BY });
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(ep!.metadata.labels ?? {})) if (k !== MANAGED_BY_LABEL && k !== SERVICE_NAME_LABEL) labels[k] = v;
  const owner = { apiVersion: 'v1', kind: 'Endpoints', name, uid: ep!.metadata.uid!, controller: true, blockOwnerDeletion: true };
  await applySlices(d, key, { namespace: namespace!, service: name, managedBy: MIRROR_MANAGED_BY, labels, owner, desired: mirroredSlices(ep!) });
}

export function endpointSliceMirroringController(ctx: ControllerContext): Runnable & { controller: Controller } {
  const services = ctx.factory.informer(core('services'));
  const endpoints = ctx.factory.informer(core('endpoints'));
  const slices = ctx.factory.informer(discovery('endpointslices'));
  const expectations = new Expectations(ctx.clock);
  const deps: MirroringDeps = { client: ctx.client, services: services.lister, endpoints: endpoints.lister, slices: slices.lister, expectations };
  const controller = new Controller({ name: 'endpointslicemirroring', clock: ctx.clock, reconcile: (k) => reconcileMirroring(deps, k) });
  controller.watch(services);
  controller.watch(endpoints);
  const svcOf = (s: KubeObject) => (s.metadata.labels?.[MANAGED_BY_LABEL] === MIRROR_MANAGED_BY && s.metadata.labels?.[SERVICE_NAME_LABEL] ? `${s.metadata.namespace}/${s.metadata.labels[SERVICE_NAME_LABEL]}` : undefined);
  slices.addHandler({
    add: (s) => { const k = svcOf(s); if (k) { expectations.creationObserved(k); controller.enqueue(k); } },
    update: (o, s) => { const k = svcOf(s); if (o !== s && k) controller.enqueue(k); },
    delete: (s) => { const k = svcOf(s); if (k) controller.enqueue(k); },
  });
  return { controller, run: (signal) => controller.run(signal) };
}
