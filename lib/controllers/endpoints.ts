// Endpoints controller: for every Service with a selector, an Endpoints object of the same name listing the
// selected pods' IPs — ready ones in `addresses`, others in `notReadyAddresses` (all ready with
// publishNotReadyAddresses) — grouped into subsets by resolved port set (named targetPorts are looked up per pod).
// Written only when it differs.
import { core, isAlreadyExists, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import { keyOf, splitKey, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import { matchesSelector } from '../controller/selector.ts';
import { isPodReady, stableStringify } from './controller-revision.ts';
import type { ControllerContext, Runnable } from './context.ts';

const endpointsRef = core('endpoints');

export interface ResolvedPort { name?: string; port: number; protocol: string; appProtocol?: string }

/** Service ports resolved against one pod (named targetPort → the container port with that name); undefined when a name is missing. */
export function resolvePorts(svc: KubeObject, pod: KubeObject): ResolvedPort[] {
  const out: ResolvedPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const tp = sp.targetPort ?? sp.port;
    let port: number | undefined;
    if (typeof tp === 'number') port = tp;
    else if (/^\d+$/.test(String(tp))) port = Number(tp);
    else {
      for (const c of pod.spec?.containers ?? []) {
        const cp = (c.ports ?? []).find((p: { name?: string; protocol?: string }) => p.name === tp && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP'));
        if (cp) { port = cp.containerPort; break; }
      }
    }
    if (port === undefined) continue;
    const r: ResolvedPort = { port, protocol: sp.protocol ?? 'TCP' };
    if (sp.name) r.name = sp.name;
    if (sp.appProtocol) r.appProtocol = sp.appProtocol;
    out.push(r);
  }
  return out;
}

/** Pods a Service selects that have an IP and are not finished. */
export function selectedPods(svc: KubeObject, pods: Lister): KubeObject[] {
  const sel = svc.spec?.selector as Record<string, string> | undefined;
  if (!sel || !Object.keys(sel).length) return [];
  return pods.list(svc.metadata.namespace, { matchLabels: sel })
    .filter((p) => p.status?.podIP && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
}

export const isHeadless = (svc: KubeObject) => svc.spec?.clusterIP === 'None';

/** DNS hostname of a pod behind a headless service (spec.hostname with spec.subdomain = service name). */
export function podHostname(svc: KubeObject, pod: KubeObject): string | undefined {
  return pod.spec?.hostname && pod.spec?.subdomain === svc.metadata.name ? pod.spec.hostname : undefined;
}

export function endpointSubsets(svc: KubeObject, pods: readonly KubeObject[]): KubeObject['subsets'] {
  const groups = new Map<string, { ports: ResolvedPort[]; addresses: unknown[]; notReadyAddresses: unknown[] }>();
  for (const p of pods) {
    if (p.metadata.deletionTimestamp && !svc.spec?.publishNotReadyAddresses) continue;
    const ports = resolvePorts(svc, p);
    if ((svc.spec?.ports ?? []).length && !ports.length) continue;
    const k = stableStringify(ports);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { ports, addresses: [], notReadyAddresses: [] }));
    const addr: Record<string, unknown> = {
      ip: p.status.podIP,
      targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
    };
    if (p.spec?.nodeName) addr.nodeName = p.spec.nodeName;
    const hn = podHostname(svc, p);
    if (hn) addr.hostname = hn;
    (isPodReady(p) || svc.spec?.publishNotReadyAddresses ? g.addresses : g.notReadyAddresses).push(addr);
  }
  const byIp = (a: any, b: any) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
  return [...groups.values()].map((g) => {
    const s: Record<string, unknown> = {};
    if (g.addresses.length) s.addresses = g.addresses.sort(byIp);
    if (g.notReadyAddresses.length) s.notReadyAddresses = g.notReadyAddresses.sort(byIp);
    if (g.ports.length) s.ports = g.ports;
    return s;
  }).filter((s) => s.addresses || s.notReadyAddresses);
}

export interface EndpointsDeps {
  client: Pick<Client, 'create' | 'update' | 'delete'>;
  services: Lister;
  pods: Lister;
  endpoints: Lister;
}

export async function reconcileEndpoints(d: EndpointsDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const svc = d.services.get(name, namespace);
  const cur = d.endpoints.get(name, namespace);
  if (!svc) {
    // Only delete what we manage: Endpoints of selector-less services are the user's, and die with the service by GC-less delete here too.
    if (cur) await d.client.delete(endpointsRef, name, namespace).catch((e) => { if (!isNotFound(e)) throw e; });
    return;
  }
  if (!svc.spec?.selector || !Object.keys(svc.spec.selector).length) return;
  const subsets = endpointSubsets(svc, selectedPods(svc, d.pods)) ?? [];
  const labels: Record<string, string> = { ...svc.metadata.labels };
  if (isHeadless(svc)) labels['service.kubernetes.io/headless'] = '';
  if (cur) {
    if (stableStringify(cur.subsets ?? []) === stableStringify(subsets) && stableStringify(cur.metadata.labels ?? {}) === stableStringify(labels)) return;
    const upd = structuredClone(cur) as KubeObject;
    upd.subsets = subsets;
    upd.metadata.labels = labels;
    await d.client.update(endpointsRef, upd);
    return;
  }
  try {
    await d.client.create(endpointsRef, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, subsets }, namespace);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    throw new Error(`endpoints ${key} exist but are not in the cache yet`);
  }
}

/** Enqueues the services selecting a pod (before and after a label change). */
export function servicesForPod(services: Lister, ...pods: KubeObject[]): string[] {
  const out = new Set<string>();
  for (const p of pods) {
    for (const s of services.list(p.metadata.namespace)) {
      const sel = s.spec?.selector;
      if (sel && Object.keys(sel).length && matchesSelector({ matchLabels: sel }, p.metadata.labels)) out.add(keyOf(s));
    }
  }
  return [...out];
}

export function endpointsController(ctx: ControllerContext): Runnable & { controller: Controller } {
  const services = ctx.factory.informer(core('services'));
  const pods = ctx.factory.informer(core('pods'));
  const endpoints = ctx.factory.informer(endpointsRef);
  const deps: EndpointsDeps = { client: ctx.client, services: services.lister, pods: pods.lister, endpoints: endpoints.lister };
  const controller = new Controller({ name: 'endpoints', clock: ctx.clock, workers: 2, reconcile: (k) => reconcileEndpoints(deps, k) });
  controller.watch(services);
  pods.addHandler({
    add: (p) => { for (const k of servicesForPod(services.lister, p)) controller.enqueue(k); },
    update: (o, p) => { if (o !== p) for (const k of servicesForPod(services.lister, o, p)) controller.enqueue(k); },
    delete: (p) => { for (const k of servicesForPod(services.lister, p)) controller.enqueue(k); },
  });
  endpoints.addHandler({ update: (o, e) => { if (o !== e) controller.enqueue(e); }, delete: (e) => controller.enqueue(e) });
  return { controller, run: (signal) => controller.run(signal) };
}
