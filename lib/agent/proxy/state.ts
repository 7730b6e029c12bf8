// buildProxyState: Services + EndpointSlices (discovery.k8s.io/v1) → ProxyState. Pure.
import type { KubeObject } from '../../client/types.ts';
import type { Protocol, ProxyEndpoint, ProxyServicePort, ProxyState } from './types.ts';
import { compareNatural } from '../compare.ts';

export interface ProxyInputs {
  services: KubeObject[];
  endpointSlices: KubeObject[];
  nodeName: string;
  clusterCidr?: string;
}

interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  nodeName?: string;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function slicesByService(slices: KubeObject[]): Map<string, KubeObject[]> {
  const out = new Map<string, KubeObject[]>();
  for (const s of slices) {
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svc || s.metadata.deletionTimestamp) continue;
    if (s.addressType && s.addressType !== 'IPv4') continue;
    const key = `${s.metadata.namespace}/${svc}`;
    out.set(key, [...(out.get(key) ?? []), s]);
  }
  return out;
}

/** Endpoints for one service port: ready ones, or serving+terminating ones when none is ready. */
export function endpointsFor(slices: KubeObject[], portName: string, protocol: Protocol, nodeName: string): ProxyEndpoint[] {
  const ready = new Map<string, ProxyEndpoint>();
  const terminating = new Map<string, ProxyEndpoint>();
  for (const slice of slices) {
    const port = ((slice.ports ?? []) as { name?: string; port?: number; protocol?: string }[])
      .find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port?.port) continue;
    for (const ep of (slice.endpoints ?? []) as SliceEndpoint[]) {
      const ip = ep.addresses?.[0];
      if (!ip) continue;
      const c = ep.conditions ?? {};
      const e = { ip, port: port.port, local: ep.nodeName === nodeName };
      const key = `${ip}:${port.port}`;
      if (c.ready !== false) ready.set(key, e);
      else if (c.serving === true && c.terminating === true) terminating.set(key, e);
    }
  }
  const chosen = ready.size ? ready : terminating;
  return [...chosen.values()].sort((a, b) => compareNatural(a.ip, b.ip) || a.port - b.port);
}

export function buildProxyState(inputs: ProxyInputs): ProxyState {
  const bySvc = slicesByService(inputs.endpointSlices);
  const services: ProxyServicePort[] = [];
  for (const svc of inputs.services) {
    const spec = svc.spec ?? {};
    if (spec.type === 'ExternalName' || svc.metadata.deletionTimestamp) continue;
    const clusterIP: string | undefined = spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined;
    const slices = bySvc.get(`${svc.metadata.namespace}/${svc.metadata.name}`) ?? [];
    const lbIPs = ((svc.status?.loadBalancer?.ingress ?? []) as { ip?: string }[]).map((i) => i.ip).filter((ip): ip is string => !!ip);
    const isLb = spec.type === 'LoadBalancer';
    const withNodePort = spec.type === 'NodePort' || isLb;
    for (const p of (spec.ports ?? []) as { name?: string; port: number; protocol?: Protocol; nodePort?: number }[]) {
      if (!clusterIP) continue; // headless: DNS only
      const protocol = p.protocol ?? 'TCP';
      services.push({
        namespace: svc.metadata.namespace ?? 'default',
        name: svc.metadata.name!,
        portName: p.name ?? '',
        protocol,
        clusterIP,
        port: p.port,
        ...(withNodePort && p.nodePort ? { nodePort: p.nodePort } : {}),
        externalIPs: [...(spec.externalIPs ?? [])],
        loadBalancerIPs: isLb ? lbIPs : [],
        ...(isLb && spec.loadBalancerSourceRanges?.length ? { sourceRanges: [...spec.loadBalancerSourceRanges] } : {}),
        ...(spec.sessionAffinity === 'ClientIP'
          ? { affinitySeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 }
          : {}),
        internalLocal: spec.internalTrafficPolicy === 'Local',
        externalLocal: spec.externalTrafficPolicy === 'Local' && (withNodePort || (spec.externalIPs ?? []).length > 0),
        endpoints: endpointsFor(slices, p.name ?? '', protocol, inputs.nodeName),
      });
    }
  }
  return { ...(inputs.clusterCidr ? { clusterCidr: inputs.clusterCidr } : {}), services };
}
