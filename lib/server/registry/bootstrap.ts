// Objects every cluster has from the start: the system namespaces and the `kubernetes` service (with endpoints
// when the advertised address is known).
import { core, discovery, isAlreadyExists, isNotFound, type Client } from '../../client/types.ts';
import { RUNTIME_CLASSES } from '../admission/runtimeclass.ts';
import { systemPriorityClasses } from '../resources/scheduling.ts';
import { firstServiceIp } from '../resources/services.ts';

export interface BootstrapOptions {
  serviceCidr: string;
  /** Address and port clients inside the cluster reach the API server on. */
  advertiseAddress?: string;
  advertisePort?: number;
}

async function ensure(fn: () => Promise<unknown>): Promise<void> {
  try { await fn(); } catch (e) { if (!isAlreadyExists(e)) throw e; }
}

export async function bootstrapObjects(client: Client, o: BootstrapOptions): Promise<void> {
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await ensure(() => client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  }
  for (const pc of systemPriorityClasses) await ensure(() => client.create({ group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' }, structuredClone(pc)));
  const port = o.advertisePort ?? 6443;
  await ensure(() => client.create(core('services'), {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: firstServiceIp(o.serviceCidr), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }], sessionAffinity: 'None' },
  }, 'default'));
  if (!o.advertiseAddress) return;
  const subsets = [{ addresses: [{ ip: o.advertiseAddress }], ports: [{ name: 'https', port, protocol: 'TCP' }] }];
  try {
    const ep = await client.get(core('endpoints'), 'kubernetes', 'default');
    if (JSON.stringify(ep.subsets) !== JSON.stringify(subsets)) await client.update(core('endpoints'), { ...ep, subsets });
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await ensure(() => client.create(core('endpoints'), { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets }, 'default'));
  }
  // As kube-apiserver does, the API server keeps the `kubernetes` EndpointSlice itself (the proxy and DNS read slices).
  const slice = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'tsk-apiserver' } },
    addressType: o.advertiseAddress.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [o.advertiseAddress], conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
  try {
    const cur = await client.get(discovery('endpointslices'), 'kubernetes', 'default');
    if (JSON.stringify([cur.endpoints, cur.ports]) !== JSON.stringify([slice.endpoints, slice.ports])) {
      await client.update(discovery('endpointslices'), { ...cur, endpoints: slice.endpoints, ports: slice.ports, addressType: slice.addressType });
    }
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await ensure(() => client.create(discovery('endpointslices'), slice, 'default'));
  }
}

/**
 * The RuntimeClasses k3s's `runtimes` manifest adds, for the OCI runtimes the node's containerd registers when it finds
 * them (lib/agent/containerd/runtime.ts): `crun`. Created once; a user's edits or deletion are kept until the next start.
 * Left out with `--disable runtimes`.
 */
export async function ensureRuntimeClasses(client: Client): Promise<void> {
  for (const name of ['crun']) {
    await ensure(() => client.create(RUNTIME_CLASSES, {
      apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'tsk' } }, handler: name,
    }));
  }
}
