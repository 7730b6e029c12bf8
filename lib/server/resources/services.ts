// core/v1 Service: ClusterIP and NodePort allocation (released on delete), defaults, validation, columns.
import type { Client, KubeObject } from '../../client/types.ts';
import { core } from '../../client/types.ts';
import { invalid as invalidError } from '../registry/errors.ts';
import { age, ageColumn, column, formatLabels, nameColumn } from './table.ts';
import type { ResourceStrategy, StatusCause, StrategyContext } from './types.ts';
import { dns1035Label, immutable, invalid, notSupported, required, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}
export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
export function parseCidr(cidr: string): { base: number; size: number } {
  const [ip, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return { base: Math.floor(ipToInt(ip!) / size) * size, size };
}
/** The first usable service IP (the kubernetes service's ClusterIP). */
export function firstServiceIp(cidr: string): string {
  return intToIp(parseCidr(cidr).base + 1);
}

interface Allocations { ips: Set<string>; ports: Set<number>; loading?: Promise<void> }
const allocations = new WeakMap<Client, Allocations>();

async function allocState(ctx: StrategyContext): Promise<Allocations> {
  let a = allocations.get(ctx.client);
  if (!a) {
    a = { ips: new Set(), ports: new Set() };
    allocations.set(ctx.client, a);
    const st = a;
    a.loading = (async () => {
      const list = await ctx.client.list(core('services'));
      for (const s of list.items) {
        for (const ip of s.spec?.clusterIPs ?? [s.spec?.clusterIP]) if (ip && ip !== 'None') st.ips.add(ip);
        for (const p of s.spec?.ports ?? []) if (p.nodePort) st.ports.add(p.nodePort);
      }
    })();
  }
  await a.loading;
  return a;
}

function allocateIp(a: Allocations, cidr: string): string | undefined {
  const { base, size } = parseCidr(cidr);
  const lower = Math.min(Math.max(16, size / 16), 256);
  const span = size - 2 - lower;
  const start = Math.floor(Math.random() * Math.max(1, span));
  for (let i = 0; i < size - 2; i++) {
    const off = i < span ? lower + ((start + i) % span) : 1 + (i - span);
    const ip = intToIp(base + off);
    if (!a.ips.has(ip)) return ip;
  }
  return undefined;
}

function allocatePort(a: Allocations, [lo, hi]: [number, number]): number | undefined {
  const n = hi - lo + 1;
  const start = Math.floor(Math.random() * n);
  for (let i = 0; i < n; i++) {
    const p = lo + ((start + i) % n);
    if (!a.ports.has(p)) return p;
  }
  return undefined;
}

const needsNodePorts = (spec: Obj) => spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
const needsIp = (spec: Obj) => spec.type !== 'ExternalName' && spec.clusterIP !== 'None';

async function allocate(obj: KubeObject, old: KubeObject | undefined, ctx: StrategyContext): Promise<void> {
  const spec = obj.spec;
  const name = obj.metadata.name ?? '';
  const fail = (c: StatusCause) => invalidError({ group: '', plural: 'services', kind: 'Service' }, name, [c]);
  const a = await allocState(ctx);
  const { base, size } = parseCidr(ctx.config.serviceCidr);
  if (needsIp(spec) && !old?.spec?.clusterIP) {
    if (spec.clusterIP) {
      const n = ipToInt(spec.clusterIP);
      if (!(n > base && n < base + size - 1)) throw fail(invalid('spec.clusterIPs', [spec.clusterIP], `failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${ctx.config.serviceCidr}`));
      if (a.ips.has(spec.clusterIP)) throw fail(invalid('spec.clusterIPs', [spec.clusterIP], `failed to allocate IP ${spec.clusterIP}: provided IP is already allocated`));
    } else {
      const ip = allocateIp(a, ctx.config.serviceCidr);
      if (!ip) throw fail(invalid('spec.clusterIPs', [], 'failed to allocate IP: range is full'));
      spec.clusterIP = ip;
    }
    spec.clusterIPs = [spec.clusterIP];
    if (!ctx.dryRun) a.ips.add(spec.clusterIP);
  }
  if (needsNodePorts(spec)) {
    const oldPorts = new Set<number>((old?.spec?.ports ?? []).map((p: Obj) => p.nodePort).filter(Boolean));
    for (const [i, p] of (spec.ports ?? []).entries()) {
      if (p.nodePort) {
        const [lo, hi] = ctx.config.nodePortRange;
        if (p.nodePort < lo || p.nodePort > hi) throw fail(invalid(`spec.ports[${i}].nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`));
        if (!oldPorts.has(p.nodePort) && a.ports.has(p.nodePort)) throw fail(invalid(`spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated'));
      } else {
        const port = allocatePort(a, ctx.config.nodePortRange);
        if (!port) throw fail(invalid(`spec.ports[${i}].nodePort`, 0, 'range is full'));
        p.nodePort = port;
      }
      if (!ctx.dryRun) a.ports.add(p.nodePort);
    }
  }
}

function ports(spec: Obj): string {
  const ps: Obj[] = spec?.ports ?? [];
  if (!ps.length) return '<none>';
  return ps.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

function externalIp(obj: Obj): string {
  const spec = obj.spec ?? {};
  const ext: string[] = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ExternalName': return spec.externalName ?? '<none>';
    case 'LoadBalancer': {
      const ing = (obj.status?.loadBalancer?.ingress ?? []).map((i: Obj) => i.ip || i.hostname).filter(Boolean);
      const all = [...ing, ...ext];
      return all.length ? all.join(',') : '<pending>';
    }
    default: return ext.length ? ext.join(',') : '<none>';
  }
}

export const services: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'Service', plural: 'services', singular: 'service', shortNames: ['svc'], categories: ['all'],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }, { name: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }],
  defaults(obj) {
    const spec = (obj.spec ??= {});
    spec.type ??= spec.externalName ? 'ExternalName' : 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    if (spec.type !== 'ExternalName') {
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
    if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
    if (spec.clusterIPs?.length && !spec.clusterIP) spec.clusterIP = spec.clusterIPs[0];
    for (const p of spec.ports ?? []) {
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
    }
  },
  validate(obj, old) {
    const spec = obj.spec ?? {};
    const out = validateMeta(obj, dns1035Label);
    if (!TYPES.includes(spec.type)) out.push(notSupported('spec.type', spec.type, TYPES));
    if (spec.type === 'ExternalName') {
      if (!spec.externalName) out.push(required('spec.externalName'));
    } else if (spec.clusterIP !== 'None' && !(spec.ports?.length)) {
      out.push(required('spec.ports'));
    }
    (spec.ports ?? []).forEach((p: Obj, i: number) => {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) out.push(invalid(`spec.ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive'));
      if (!['TCP', 'UDP', 'SCTP'].includes(p.protocol)) out.push(notSupported(`spec.ports[${i}].protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
      if ((spec.ports.length > 1) && !p.name) out.push(required(`spec.ports[${i}].name`));
    });
    if (!['None', 'ClientIP'].includes(spec.sessionAffinity)) out.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']));
    if (old && old.spec?.clusterIP && spec.clusterIP && old.spec.type !== 'ExternalName' && spec.type !== 'ExternalName') out.push(...immutable('spec.clusterIPs[0]', spec.clusterIP, old.spec.clusterIP));
    return out;
  },
  async prepareForCreate(obj, ctx) {
    obj.status = { loadBalancer: {} };
    await allocate(obj, undefined, ctx);
  },
  async prepareForUpdate(obj, old, ctx) {
    const spec = obj.spec;
    if (!spec.clusterIP && old.spec?.clusterIP && needsIp(spec) && old.spec.type !== 'ExternalName') {
      spec.clusterIP = old.spec.clusterIP;
      spec.clusterIPs = old.spec.clusterIPs;
    }
    if (needsNodePorts(spec)) {
      // keep nodePorts of unchanged ports when the update omits them (kubectl apply does)
      for (const p of spec.ports ?? []) {
        if (p.nodePort) continue;
        const prev = (old.spec?.ports ?? []).find((o: Obj) => o.port === p.port && (o.protocol ?? 'TCP') === p.protocol);
        if (prev?.nodePort) p.nodePort = prev.nodePort;
      }
    } else {
      for (const p of spec.ports ?? []) delete p.nodePort;
    }
    await allocate(obj, old, ctx);
    if (!needsIp(spec)) { delete spec.clusterIPs; if (spec.type === 'ExternalName') delete spec.clusterIP; }
    if (!ctx.dryRun) release(old, obj, ctx);
  },
  afterDelete(obj, ctx) {
    release(obj, undefined, ctx);
  },
  columns: [
    nameColumn,
    column('Type', 'string', 0, 'The type of the service.'),
    column('Cluster-IP', 'string', 0, 'The IP address of the service.'),
    column('External-IP', 'string', 0, 'The external IP addresses of the service.'),
    column('Port(s)', 'string', 0, 'The ports of the service.'),
    ageColumn,
    column('Selector', 'string', 1, 'The label selector of the service.'),
  ],
  cells: (obj, now) => [obj.metadata.name, obj.spec?.type ?? '', obj.spec?.clusterIP || '<none>', externalIp(obj), ports(obj.spec), age(obj, now), formatLabels(obj.spec?.selector)],
  fieldLabels: (obj) => ({ 'spec.clusterIP': obj.spec?.clusterIP ?? '', 'spec.type': obj.spec?.type ?? '' }),
};

/** Frees what `old` held and `next` (if any) no longer holds. */
function release(old: KubeObject, next: KubeObject | undefined, ctx: StrategyContext): void {
  const a = allocations.get(ctx.client);
  if (!a) return;
  const keepIps = new Set<string>(next?.spec?.clusterIPs ?? (next?.spec?.clusterIP ? [next.spec.clusterIP] : []));
  const keepPorts = new Set<number>((next?.spec?.ports ?? []).map((p: Obj) => p.nodePort).filter(Boolean));
  for (const ip of old.spec?.clusterIPs ?? [old.spec?.clusterIP]) if (ip && !keepIps.has(ip)) a.ips.delete(ip);
  for (const p of old.spec?.ports ?? []) if (p.nodePort && !keepPorts.has(p.nodePort)) a.ports.delete(p.nodePort);
}
