// networking.k8s.io/v1: Ingress, IngressClass, NetworkPolicy.
import { formatLabelSelector, fromLabelSelectorObject } from '../registry/selectors.ts';
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy, StatusCause } from './types.ts';
import { invalid, notSupported, required, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const GROUP = 'networking.k8s.io';
const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'];

function validateBackend(b: Obj | undefined, path: string): StatusCause[] {
  if (!b) return [required(path)];
  const out: StatusCause[] = [];
  if (b.service && b.resource) out.push(invalid(path, b, 'cannot set both service and resource backends'));
  if (!b.service && !b.resource) out.push(required(path, 'one of service or resource must be specified'));
  if (b.service) {
    if (!b.service.name) out.push(required(`${path}.service.name`));
    const p = b.service.port ?? {};
    if (p.name == null && p.number == null) out.push(required(`${path}.service.port`, 'port name or number is required'));
    if (p.name != null && p.number != null) out.push(invalid(`${path}.service.port`, p, 'cannot set both port name & port number'));
  }
  return out;
}

function ingressAddress(o: Obj): string {
  return (o.status?.loadBalancer?.ingress ?? []).map((i: Obj) => i.ip || i.hostname).filter(Boolean).join(',');
}

export const ingresses: ResourceStrategy = {
  group: GROUP, versions: ['v1'], kind: 'Ingress', plural: 'ingresses', singular: 'ingress', shortNames: ['ing'],
  namespaced: true, subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }],
  validate(o) {
    const out = validateMeta(o);
    const s: Obj = o.spec ?? {};
    if (!s.defaultBackend && !(s.rules ?? []).length) out.push(invalid('spec', s, 'either `defaultBackend` or `rules` must be specified'));
    if (s.defaultBackend) out.push(...validateBackend(s.defaultBackend, 'spec.defaultBackend'));
    (s.rules ?? []).forEach((r: Obj, i: number) => {
      if (r.host && (r.host.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(r.host))) out.push(invalid(`spec.rules[${i}].host`, r.host, 'must be a DNS name, not an IP address'));
      (r.http?.paths ?? []).forEach((p: Obj, j: number) => {
        const f = `spec.rules[${i}].http.paths[${j}]`;
        if (!p.pathType) out.push(required(`${f}.pathType`, 'pathType must be specified'));
        else if (!PATH_TYPES.includes(p.pathType)) out.push(notSupported(`${f}.pathType`, p.pathType, PATH_TYPES));
        if (p.pathType !== 'ImplementationSpecific' && p.path !== undefined && !String(p.path).startsWith('/')) out.push(invalid(`${f}.path`, p.path, "must be an absolute path"));
        out.push(...validateBackend(p.backend, `${f}.backend`));
      });
    });
    return out;
  },
  prepareForCreate(o) { o.status = { loadBalancer: {} }; },
  columns: [nameColumn, column('Class', 'string', 0, 'The name of the IngressClass resource that should be used for ingress.'),
    column('Hosts', 'string', 0, 'Hosts that incoming requests are matched against before the ingress rule'),
    column('Address', 'string', 0, 'Address is a list containing ingress points for the load-balancer'),
    column('Ports', 'string', 0, 'Ports of TLS configurations that open'), ageColumn],
  cells: (o, now) => {
    const hosts = (o.spec?.rules ?? []).map((r: Obj) => r.host || '*');
    return [o.metadata.name, o.spec?.ingressClassName ?? '<none>', hosts.length ? hosts.join(',') : '*', ingressAddress(o), (o.spec?.tls ?? []).length ? '80, 443' : '80', age(o, now)];
  },
};

export const ingressclasses: ResourceStrategy = {
  group: GROUP, versions: ['v1'], kind: 'IngressClass', plural: 'ingressclasses', singular: 'ingressclass', namespaced: false,
  validate(o, old) {
    const out = validateMeta(o);
    if (!o.spec?.controller) out.push(required('spec.controller'));
    if (old && o.spec?.controller !== old.spec?.controller) out.push(invalid('spec.controller', o.spec?.controller, 'field is immutable'));
    return out;
  },
  columns: [nameColumn, column('Controller', 'string', 0, 'Controller that is responsible for handling this class'),
    column('Parameters', 'string', 0, 'A reference to a resource with additional parameters'), ageColumn],
  cells: (o, now) => {
    const p = o.spec?.parameters;
    const params = p ? `${p.kind}.${p.apiGroup ?? ''}/${p.name}`.replace('./', '/') : '<none>';
    return [o.metadata.name, o.spec?.controller ?? '', params, age(o, now)];
  },
};

export const networkpolicies: ResourceStrategy = {
  group: GROUP, versions: ['v1'], kind: 'NetworkPolicy', plural: 'networkpolicies', singular: 'networkpolicy', shortNames: ['netpol'], namespaced: true,
  defaults(o) {
    o.spec ??= {};
    o.spec.podSelector ??= {};
    if (!o.spec.policyTypes) o.spec.policyTypes = o.spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
    for (const r of [...(o.spec.ingress ?? []), ...(o.spec.egress ?? [])]) for (const p of r.ports ?? []) p.protocol ??= 'TCP';
  },
  validate(o) {
    const out = validateMeta(o);
    for (const t of o.spec?.policyTypes ?? []) if (!['Ingress', 'Egress'].includes(t)) out.push(notSupported('spec.policyTypes', t, ['Ingress', 'Egress']));
    return out;
  },
  columns: [nameColumn, column('Pod-Selector', 'string', 0, 'Selects the pods to which this NetworkPolicy object applies.'), ageColumn],
  cells: (o, now) => [o.metadata.name, formatLabelSelector(fromLabelSelectorObject(o.spec?.podSelector)) || '<none>', age(o, now)],
};

export const networkingStrategies: ResourceStrategy[] = [ingresses, ingressclasses, networkpolicies];
