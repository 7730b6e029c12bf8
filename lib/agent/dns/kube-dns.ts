// The kube-dns Service (ClusterIP 10.43.0.10) in kube-system, and per-node EndpointSlices pointing at each node's
// in-process DNS server. internalTrafficPolicy Local keeps every pod's lookups on its own node.
import type { Client, KubeObject } from '../../client/types.ts';
import { core, discovery, isAlreadyExists, isNotFound } from '../../client/types.ts';

export const KUBE_DNS_MANAGED_BY = 'tsk-dns';

export function kubeDnsService(clusterDns: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns', namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: clusterDns,
      clusterIPs: [clusterDns],
      internalTrafficPolicy: 'Local',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    },
  };
}

export function kubeDnsEndpointSlice(nodeName: string, nodeIp: string, dnsPort = 53): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `kube-dns-${nodeName}`, namespace: 'kube-system',
      labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': KUBE_DNS_MANAGED_BY },
    },
    addressType: nodeIp.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [nodeIp], conditions: { ready: true, serving: true, terminating: false }, nodeName }],
    ports: [
      { name: 'dns', port: dnsPort, protocol: 'UDP' },
      { name: 'dns-tcp', port: dnsPort, protocol: 'TCP' },
      { name: 'metrics', port: 9153, protocol: 'TCP' },
    ],
  };
}

/** The manifest as YAML-ready objects (Service), for docs and `kubectl apply`. */
export const kubeDnsManifest = (clusterDns = '10.43.0.10'): KubeObject[] => [kubeDnsService(clusterDns)];

async function createOrKeep(client: Pick<Client, 'get' | 'create' | 'update'>, ref: ReturnType<typeof core>, obj: KubeObject, replaceIf: (cur: KubeObject) => boolean): Promise<void> {
  try {
    const cur = await client.get(ref, obj.metadata.name!, obj.metadata.namespace);
    if (!replaceIf(cur)) return;
    await client.update(ref, { ...obj, metadata: { ...cur.metadata, labels: obj.metadata.labels } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await client.create(ref, obj, obj.metadata.namespace);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
}

/**
 * Ensures the kube-dns Service exists (an existing one is left alone) and, when a node is given, that node's
 * EndpointSlice points at its DNS server.
 */
export async function ensureKubeDnsService(
  client: Pick<Client, 'get' | 'create' | 'update'>,
  opts: { clusterDns?: string; nodeName?: string; nodeIp?: string; dnsPort?: number } = {},
): Promise<void> {
  await createOrKeep(client, core('services'), kubeDnsService(opts.clusterDns ?? '10.43.0.10'), () => false);
  if (opts.nodeName && opts.nodeIp) {
    const want = kubeDnsEndpointSlice(opts.nodeName, opts.nodeIp, opts.dnsPort);
    await createOrKeep(client, discovery('endpointslices'), want, (cur) =>
      JSON.stringify([cur.endpoints, cur.ports]) !== JSON.stringify([want.endpoints, want.ports]));
  }
}
