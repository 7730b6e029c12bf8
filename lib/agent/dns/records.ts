// The cluster zone as a pure function: Services + EndpointSlices → an index, and (index, question) → answer.
// Names: <svc>.<ns>.svc.<domain> (A/AAAA/SRV/CNAME), _<port>._<proto>.<svc>.<ns>.svc.<domain> (SRV),
// <hostname|a-b-c-d>.<svc>.<ns>.svc.<domain> (headless endpoints), <a-b-c-d>.<ns>.pod.<domain>, and PTR for
// service and endpoint IPs. Anything else under <domain> is NXDOMAIN with the SOA in the authority section.
import type { Answer, Question, SoaAnswer } from 'dns-packet';
import type { KubeObject } from '../../client/types.ts';
import { compareNatural } from '../compare.ts';

export const TTL = 5;

interface Port { name: string; port: number; protocol: string }
interface Endpoint { ip: string; hostname?: string; ports: Port[] }
interface SvcRecord {
  name: string;
  namespace: string;
  clusterIPs: string[];
  headless: boolean;
  externalName?: string;
  ports: Port[];
  endpoints: Endpoint[];
}

export interface DnsIndex {
  domain: string;
  services: Map<string, SvcRecord>;
  namespaces: Set<string>;
  ptr: Map<string, string>;
}

export interface DnsAnswer {
  rcode: 'NOERROR' | 'NXDOMAIN';
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

const isV4 = (ip: string) => /^\d+\.\d+\.\d+\.\d+$/.test(ip);
const dashed = (ip: string) => ip.replace(/[.:]/g, '-');

export function buildDnsIndex(services: KubeObject[], slices: KubeObject[], domain: string): DnsIndex {
  const index: DnsIndex = { domain: domain.toLowerCase(), services: new Map(), namespaces: new Set(), ptr: new Map() };
  for (const s of services) {
    const ns = s.metadata.namespace ?? 'default';
    const name = s.metadata.name!;
    const spec = s.spec ?? {};
    const clusterIPs: string[] = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter((ip: string) => ip && ip !== 'None');
    const rec: SvcRecord = {
      name, namespace: ns, clusterIPs,
      headless: spec.type !== 'ExternalName' && !clusterIPs.length,
      ...(spec.type === 'ExternalName' && spec.externalName ? { externalName: String(spec.externalName).replace(/\.$/, '') } : {}),
      ports: ((spec.ports ?? []) as Partial<Port>[]).map((p) => ({ name: p.name ?? '', port: p.port!, protocol: p.protocol ?? 'TCP' })),
      endpoints: [],
    };
    index.services.set(`${name}.${ns}`, rec);
    index.namespaces.add(ns);
    for (const ip of clusterIPs) index.ptr.set(ip, `${name}.${ns}.svc.${index.domain}`);
  }
  for (const sl of slices) {
    const svcName = sl.metadata.labels?.['kubernetes.io/service-name'];
    const rec = svcName && index.services.get(`${svcName}.${sl.metadata.namespace ?? 'default'}`);
    if (!rec) continue;
    const publishNotReady = services.find((s) => s.metadata.name === rec.name && s.metadata.namespace === rec.namespace)?.spec?.publishNotReadyAddresses === true;
    const ports = ((sl.ports ?? []) as Partial<Port>[]).map((p) => ({ name: p.name ?? '', port: p.port!, protocol: p.protocol ?? 'TCP' }));
    for (const ep of (sl.endpoints ?? []) as { addresses?: string[]; hostname?: string; conditions?: { ready?: boolean } }[]) {
      if (ep.conditions?.ready === false && !publishNotReady) continue;
      for (const ip of ep.addresses ?? []) {
        if (rec.endpoints.some((e) => e.ip === ip)) continue;
        rec.endpoints.push({ ip, ...(ep.hostname ? { hostname: ep.hostname } : {}), ports });
        if (rec.headless && ep.hostname) index.ptr.set(ip, `${ep.hostname}.${rec.name}.${rec.namespace}.svc.${index.domain}`);
      }
    }
    rec.endpoints.sort((a, b) => compareNatural(a.ip, b.ip));
  }
  return index;
}

export function soa(domain: string): SoaAnswer {
  return {
    type: 'SOA', name: domain, ttl: TTL, class: 'IN',
    data: { mname: `ns.dns.${domain}`, rname: `hostmaster.${domain}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: TTL },
  };
}

const reply = (answers: Answer[], additionals: Answer[] = []): DnsAnswer => ({ rcode: 'NOERROR', answers, authorities: [], additionals });

function addressAnswers(name: string, type: string, ips: string[]): Answer[] {
  const want = type === 'A' ? ips.filter(isV4) : type === 'AAAA' ? ips.filter((ip) => !isV4(ip)) : [];
  return want.map((ip) => ({ type: type as 'A', name, ttl: TTL, class: 'IN', data: ip }));
}

function serviceAnswer(idx: DnsIndex, q: Question, svc: SvcRecord): DnsAnswer {
  if (svc.externalName) return reply([{ type: 'CNAME', name: q.name, ttl: TTL, class: 'IN', data: svc.externalName }]);
  if (q.type === 'SRV') return srvAnswer(idx, q, svc, svc.ports.filter((p) => p.name));
  const ips = svc.headless ? svc.endpoints.map((e) => e.ip) : svc.clusterIPs;
  if ((q.type as string) === 'ANY') return reply([...addressAnswers(q.name, 'A', ips), ...addressAnswers(q.name, 'AAAA', ips)]);
  return reply(addressAnswers(q.name, q.type, ips));
}

function srvAnswer(idx: DnsIndex, q: Question, svc: SvcRecord, ports: Port[]): DnsAnswer {
  const base = `${svc.name}.${svc.namespace}.svc.${idx.domain}`;
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  for (const p of ports) {
    if (!svc.headless) {
      answers.push({ type: 'SRV', name: q.name, ttl: TTL, class: 'IN', data: { priority: 0, weight: 100, port: p.port, target: base } });
      additionals.push(...addressAnswers(base, 'A', svc.clusterIPs), ...addressAnswers(base, 'AAAA', svc.clusterIPs));
      continue;
    }
    for (const e of svc.endpoints) {
      const ep = e.ports.find((x) => x.name === p.name && x.protocol === p.protocol);
      if (!ep) continue;
      const target = `${e.hostname ?? dashed(e.ip)}.${base}`;
      answers.push({ type: 'SRV', name: q.name, ttl: TTL, class: 'IN', data: { priority: 0, weight: 100, port: ep.port, target } });
      additionals.push(...addressAnswers(target, isV4(e.ip) ? 'A' : 'AAAA', [e.ip]));
    }
  }
  return reply(answers, additionals);
}

const nx = (idx: DnsIndex): DnsAnswer => ({ rcode: 'NXDOMAIN', answers: [], authorities: [soa(idx.domain)], additionals: [] });
const nodata = (idx: DnsIndex): DnsAnswer => ({ rcode: 'NOERROR', answers: [], authorities: [soa(idx.domain)], additionals: [] });

function withSoaIfEmpty(idx: DnsIndex, a: DnsAnswer): DnsAnswer {
  return a.answers.length ? a : { ...a, authorities: [soa(idx.domain)] };
}

/** Answers a question from the cluster zone, or returns undefined when it must be forwarded upstream. */
export function answer(idx: DnsIndex, q: Question): DnsAnswer | undefined {
  const lower = q.name.toLowerCase().replace(/\.$/, '');
  if (q.type === 'PTR' && lower.endsWith('.in-addr.arpa')) {
    const ip = lower.slice(0, -'.in-addr.arpa'.length).split('.').reverse().join('.');
    const target = idx.ptr.get(ip);
    return target ? reply([{ type: 'PTR', name: q.name, ttl: TTL, class: 'IN', data: target }]) : undefined;
  }
  if (lower !== idx.domain && !lower.endsWith('.' + idx.domain)) return undefined;
  const labels = lower === idx.domain ? [] : lower.slice(0, -(idx.domain.length + 1)).split('.');
  if (!labels.length) {
    if (q.type === 'SOA') return reply([soa(idx.domain)]);
    return nodata(idx);
  }
  const kind = labels[labels.length - 1];
  const rest = labels.slice(0, -1);
  if (kind === 'svc') return withSoaIfEmpty(idx, svcZone(idx, q, rest) ?? nx(idx));
  if (kind === 'pod') return withSoaIfEmpty(idx, podZone(idx, q, rest) ?? nx(idx));
  return nx(idx);
}

function svcZone(idx: DnsIndex, q: Question, rest: string[]): DnsAnswer | undefined {
  if (rest.length === 0) return nodata(idx);
  const ns = rest[rest.length - 1]!;
  if (rest.length === 1) return idx.namespaces.has(ns) ? nodata(idx) : undefined;
  const svc = idx.services.get(`${rest[rest.length - 2]}.${ns}`);
  if (!svc) return undefined;
  if (rest.length === 2) return serviceAnswer(idx, q, svc);
  if (rest.length === 3) {
    const e = svc.endpoints.find((x) => x.hostname === rest[0] || dashed(x.ip) === rest[0]);
    if (!e || !svc.headless) return undefined;
    return reply(addressAnswers(q.name, (q.type as string) === 'ANY' ? (isV4(e.ip) ? 'A' : 'AAAA') : q.type, [e.ip]));
  }
  if (rest.length === 4 && rest[0]!.startsWith('_') && rest[1]!.startsWith('_')) {
    const portName = rest[0]!.slice(1);
    const proto = rest[1]!.slice(1).toUpperCase();
    const ports = svc.ports.filter((p) => p.name === portName && p.protocol === proto);
    if (!ports.length) return undefined;
    return q.type === 'SRV' ? srvAnswer(idx, q, svc, ports) : nodata(idx);
  }
  return undefined;
}

function podZone(idx: DnsIndex, q: Question, rest: string[]): DnsAnswer | undefined {
  if (rest.length < 2) return nodata(idx);
  if (rest.length !== 2) return undefined;
  const v4 = rest[0]!.split('-');
  if (v4.length === 4 && v4.every((x) => /^\d{1,3}$/.test(x) && Number(x) < 256)) {
    return reply(addressAnswers(q.name, (q.type as string) === 'ANY' ? 'A' : q.type, [v4.join('.')]));
  }
  return undefined;
}
