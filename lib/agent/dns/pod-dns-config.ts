// podDnsConfig: a pod's resolv.conf per dnsPolicy, as the CRI DNSConfig the kubelet passes to RunPodSandbox. Pure.
import type { KubeObject } from '../../client/types.ts';
import type { ResolvConf } from './resolv-conf.ts';

export interface PodDnsOptions {
  /** The cluster DNS service IP (10.43.0.10); empty means no cluster DNS, ClusterFirst falls back to Default. */
  clusterDns: string;
  domain: string;
  hostResolv: ResolvConf;
}

export interface CriDnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

const MAX_SERVERS = 3;
const MAX_SEARCHES = 32;

const dedupe = (xs: string[]) => [...new Set(xs)];

function mergeOptions(base: string[], extra: { name: string; value?: string }[]): string[] {
  const m = new Map<string, string>();
  for (const o of base) m.set(o.split(':')[0]!, o);
  for (const o of extra) if (o.name) m.set(o.name, o.value !== undefined && o.value !== null ? `${o.name}:${o.value}` : o.name);
  return [...m.values()];
}

export function podDnsConfig(pod: KubeObject, opts: PodDnsOptions): CriDnsConfig {
  const spec = pod.spec ?? {};
  const ns = pod.metadata.namespace ?? 'default';
  let policy: string = spec.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && spec.hostNetwork) policy = 'Default';
  if ((policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') && !opts.clusterDns) policy = 'Default';
  let cfg: CriDnsConfig;
  if (policy === 'None') cfg = { servers: [], searches: [], options: [] };
  else if (policy === 'Default') cfg = { servers: [...opts.hostResolv.servers], searches: [...opts.hostResolv.searches], options: [...opts.hostResolv.options] };
  else {
    cfg = {
      servers: [opts.clusterDns],
      searches: [`${ns}.svc.${opts.domain}`, `svc.${opts.domain}`, opts.domain, ...opts.hostResolv.searches],
      options: ['ndots:5'],
    };
  }
  const extra = spec.dnsConfig ?? {};
  cfg.servers = dedupe([...cfg.servers, ...((extra.nameservers ?? []) as string[])]).slice(0, MAX_SERVERS);
  cfg.searches = dedupe([...cfg.searches, ...((extra.searches ?? []) as string[])]).slice(0, MAX_SEARCHES);
  cfg.options = mergeOptions(cfg.options, (extra.options ?? []) as { name: string; value?: string }[]);
  return cfg;
}
