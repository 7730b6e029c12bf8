// Discovery documents: aggregated (apidiscovery.k8s.io/v2, what kubectl 1.32 uses) and the legacy APIVersions,
// APIGroupList, APIGroup and APIResourceList forms.
import type { Context } from 'hono';
import type { ResourceCatalog } from '../resources/catalog.ts';
import { ALL_VERBS, apiVersionOf, type ResourceStrategy } from '../resources/types.ts';
import { parseAccept } from './negotiate.ts';

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** Which aggregated version the client asked for, if any. */
export function wantsAggregated(c: Context): 'v2' | 'v2beta1' | undefined {
  for (const m of parseAccept(c.req.header('accept'))) {
    if (m.type === 'application/json' && m.params.g === 'apidiscovery.k8s.io' && m.params.as === 'APIGroupDiscoveryList') {
      if (m.params.v === 'v2' || m.params.v === 'v2beta1') return m.params.v;
    }
    if (!m.params.as && (m.type === 'application/json' || m.type === '*/*')) return undefined;
  }
  return undefined;
}

function subKind(s: ResourceStrategy, name: string) {
  const sub = s.subresources?.find((x) => x.name === name)!;
  return { group: sub.group ?? (sub.kind ? (name === 'scale' ? 'autoscaling' : s.group) : s.group), version: sub.version ?? (name === 'scale' ? 'v1' : s.versions[0]!), kind: sub.kind ?? s.kind };
}

function aggregatedResource(s: ResourceStrategy, version: string) {
  return {
    resource: s.plural,
    responseKind: { group: s.group, version, kind: s.kind },
    scope: s.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: s.singular,
    verbs: s.verbs ?? ALL_VERBS,
    ...(s.shortNames?.length ? { shortNames: s.shortNames } : {}),
    ...(s.categories?.length ? { categories: s.categories } : {}),
    ...(s.subresources?.length ? {
      subresources: s.subresources.map((sub) => {
        const k = subKind(s, sub.name);
        return { subresource: sub.name, responseKind: { group: k.group, version: k.version, kind: k.kind }, verbs: sub.verbs };
      }),
    } : {}),
  };
}

export function aggregatedDiscovery(catalog: ResourceCatalog, legacy: boolean, apiVersion: 'v2' | 'v2beta1') {
  const groups = catalog.groups().filter((g) => (g.group === '') === legacy);
  return {
    kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${apiVersion}`, metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.group, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: catalog.all().filter((s) => s.group === g.group && s.versions.includes(v)).sort((a, b) => (a.plural < b.plural ? -1 : 1)).map((s) => aggregatedResource(s, v)),
        freshness: 'Current',
      })),
    })),
  };
}

export function apiVersions(host: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] };
}

function apiGroup(g: { group: string; versions: string[] }) {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v }));
  return { name: g.group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(catalog: ResourceCatalog) {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: catalog.groups().filter((g) => g.group !== '').map(apiGroup) };
}

export function apiGroupDoc(catalog: ResourceCatalog, group: string) {
  const g = catalog.groups().find((x) => x.group === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g) } : undefined;
}

export function apiResourceList(catalog: ResourceCatalog, group: string, version: string) {
  const strategies = catalog.all().filter((s) => s.group === group && s.versions.includes(version));
  if (!strategies.length) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const s of [...strategies].sort((a, b) => (a.plural < b.plural ? -1 : 1))) {
    resources.push({
      name: s.plural, singularName: s.singular, namespaced: s.namespaced, kind: s.kind, verbs: s.verbs ?? ALL_VERBS,
      ...(s.shortNames?.length ? { shortNames: s.shortNames } : {}),
      ...(s.categories?.length ? { categories: s.categories } : {}),
    });
    for (const sub of s.subresources ?? []) {
      const k = subKind(s, sub.name);
      resources.push({ name: `${s.plural}/${sub.name}`, singularName: '', namespaced: s.namespaced, ...(k.group !== s.group ? { group: k.group, version: k.version } : {}), kind: k.kind, verbs: sub.verbs });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
}
