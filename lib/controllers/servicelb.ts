// ServiceLB (k3s klipper-lb, in-process): a LoadBalancer Service gets the Ready nodes' addresses in
// status.loadBalancer.ingress; the service proxy on every node then accepts the service port on those addresses.
// Disabled with `--disable servicelb` (leave it out of the manager's list).
import { core, type Client, type KubeObject } from '../client/types.ts';
import type { Lister } from '../controller/cache.ts';
import { splitKey } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import { SharedInformerFactory } from '../controller/factory.ts';
import { nullRecorder } from '../controller/events.ts';
import { realClock } from '../clock.ts';
import type { ControllerContext, Runnable } from './context.ts';

/** Nodes labelled `svccontroller.tsk.io/enablelb=true` form the pool when any node carries the label. */
export const ENABLE_LB_LABEL = 'svccontroller.tsk.io/enablelb';

const servicesRef = core('services');
const nodesRef = core('nodes');

const isReady = (n: KubeObject) =>
  ((n.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');

/** The ingress addresses for a LoadBalancer service: each Ready pool node's ExternalIP, else its InternalIP. Pure. */
export function lbIngress(nodes: KubeObject[]): { ip: string; ipMode: 'VIP' }[] {
  const labelled = nodes.some((n) => n.metadata.labels?.[ENABLE_LB_LABEL] !== undefined);
  const pool = nodes.filter((n) => isReady(n) && !n.metadata.deletionTimestamp && (!labelled || n.metadata.labels?.[ENABLE_LB_LABEL] === 'true'));
  const ips = new Set<string>();
  for (const n of pool) {
    const addrs = (n.status?.addresses ?? []) as { type: string; address: string }[];
    const ext = addrs.filter((a) => a.type === 'ExternalIP').map((a) => a.address);
    const chosen = ext.length ? ext : addrs.filter((a) => a.type === 'InternalIP').map((a) => a.address);
    for (const ip of chosen) ips.add(ip);
  }
  return [...ips].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((ip) => ({ ip, ipMode: 'VIP' }));
}

/** Whether this controller handles the service (type LoadBalancer without another implementation's class). */
export const isOurs = (svc: KubeObject) => svc.spec?.type === 'LoadBalancer' && !svc.spec?.loadBalancerClass;

export interface ServiceLbDeps {
  client: Pick<Client, 'update'>;
  services: Lister;
  nodes: Lister;
}

const portKeys = (svc: KubeObject): string[] =>
  ((svc.spec?.ports ?? []) as { port: number; protocol?: string }[]).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`);

const age = (s: KubeObject) => `${s.metadata.creationTimestamp ?? ''}/${s.metadata.namespace}/${s.metadata.name}`;

/** The older LoadBalancer service already holding one of svc's ports on the node addresses, if any. Pure. */
export function portConflict(svc: KubeObject, all: KubeObject[]): KubeObject | undefined {
  const mine = new Set(portKeys(svc));
  return all.filter((o) => isOurs(o) && !o.metadata.deletionTimestamp && age(o) < age(svc))
    .find((o) => portKeys(o).some((k) => mine.has(k)));
}

export async function reconcileServiceLb(deps: ServiceLbDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const svc = deps.services.get(name, namespace);
  if (!svc || svc.metadata.deletionTimestamp || !isOurs(svc)) return;
  // Like klipper-lb: a port already taken by an older LoadBalancer service leaves this one pending.
  const ingress = portConflict(svc, deps.services.list()) ? [] : lbIngress(deps.nodes.list());
  const current = (svc.status?.loadBalancer?.ingress ?? []) as unknown[];
  if (JSON.stringify(current) === JSON.stringify(ingress)) return;
  const next = structuredClone(svc) as KubeObject;
  next.status = { ...(next.status ?? {}), loadBalancer: ingress.length ? { ingress } : {} };
  await deps.client.update(servicesRef, next, 'status');
}

/** For the controller manager's list: `servicelb: initServiceLbController`. */
export function initServiceLbController(ctx: ControllerContext): Runnable {
  const services = ctx.factory.informer(servicesRef);
  const nodes = ctx.factory.informer(nodesRef);
  const deps: ServiceLbDeps = { client: ctx.client, services: services.lister, nodes: nodes.lister };
  const c = new Controller({ name: 'servicelb', clock: ctx.clock, reconcile: (key) => reconcileServiceLb(deps, key) });
  // Any LoadBalancer service change can free or take a port another one waits for.
  const allLb = () => services.lister.list().filter(isOurs).map((s) => `${s.metadata.namespace}/${s.metadata.name}`);
  c.watch(services, (s) => (isOurs(s) ? [...new Set([`${s.metadata.namespace}/${s.metadata.name}`, ...allLb()])] : allLb()));
  // Any node change can change every LoadBalancer service's addresses.
  c.watch(nodes, allLb);
  return c;
}

/** Standalone start (its own informers), for running outside the controller manager. */
export function startServiceLb(opts: { client: Client; signal: AbortSignal }): Promise<void> {
  const factory = new SharedInformerFactory({ client: opts.client, clock: realClock });
  const runnable = initServiceLbController({
    client: opts.client, factory, clock: realClock,
    recorder: () => nullRecorder,
  });
  factory.start(opts.signal);
  return factory.waitForSync(opts.signal).then(() => runnable.run(opts.signal));
}
