// discovery.k8s.io/v1 EndpointSlice.
import type { KubeObject } from '../../client/types.ts';
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy } from './types.ts';
import { immutable, notSupported, required, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];

function portsText(o: Obj): string {
  const ps: Obj[] = o.ports ?? [];
  if (!ps.length) return '<unset>';
  return ps.map((p) => (p.port == null ? '<unset>' : String(p.port))).join(',');
}

function endpointsText(o: Obj): string {
  const addrs: string[] = (o.endpoints ?? []).flatMap((e: Obj) => e.addresses ?? []);
  if (!addrs.length) return '<unset>';
  const shown = addrs.slice(0, 3).join(',');
  return addrs.length > 3 ? `${shown} + ${addrs.length - 3} more...` : shown;
}

export const endpointslices: ResourceStrategy = {
  group: 'discovery.k8s.io', versions: ['v1'], kind: 'EndpointSlice', plural: 'endpointslices', singular: 'endpointslice', namespaced: true,
  defaults(o) {
    for (const p of o.ports ?? []) { p.protocol ??= 'TCP'; p.name ??= ''; }
  },
  validate(o: KubeObject, old) {
    const out = validateMeta(o);
    if (!o.addressType) out.push(required('addressType'));
    else if (!ADDRESS_TYPES.includes(o.addressType)) out.push(notSupported('addressType', o.addressType, ADDRESS_TYPES));
    (o.endpoints ?? []).forEach((e: Obj, i: number) => {
      if (!Array.isArray(e?.addresses) || e.addresses.length === 0) out.push(required(`endpoints[${i}].addresses`, 'must contain at least 1 address'));
    });
    if (old) out.push(...immutable('addressType', o.addressType, old.addressType));
    return out;
  },
  columns: [nameColumn, column('AddressType', 'string', 0, 'The IP protocol for this slice.'), column('Ports', 'string', 0, 'The ports of this slice.'),
    column('Endpoints', 'string', 0, 'The endpoints of this slice.'), ageColumn],
  cells: (o, now) => [o.metadata.name, o.addressType ?? '', portsText(o), endpointsText(o), age(o, now)],
};

export const discoveryStrategies: ResourceStrategy[] = [endpointslices];
