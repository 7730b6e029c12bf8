// core/v1 Node (cluster-scoped): Table columns and field labels.
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy } from './types.ts';
import { validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function nodeStatus(n: Obj): string {
  const ready = (n.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready');
  const parts = [!ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown'];
  if (n.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function roles(n: Obj): string {
  const r = new Set<string>();
  for (const [k, v] of Object.entries<string>(n.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) r.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) r.add(v);
  }
  return r.size ? [...r].sort().join(',') : '<none>';
}

const address = (n: Obj, type: string) => (n.status?.addresses ?? []).find((a: Obj) => a.type === type)?.address ?? '<none>';

export const nodes: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'Node', plural: 'nodes', singular: 'node', shortNames: ['no'],
  namespaced: false,
  subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }, { name: 'proxy', kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }],
  validate: (obj) => validateMeta(obj),
  prepareForCreate(obj) {
    obj.spec ??= {};
    obj.status ??= {};
  },
  columns: [
    nameColumn,
    column('Status', 'string', 0, 'The status of the node'),
    column('Roles', 'string', 0, 'The roles of the node'),
    ageColumn,
    column('Version', 'string', 0, 'Kubelet Version reported by the node.'),
    column('Internal-IP', 'string', 1, 'List of internal IPs for the node.'),
    column('External-IP', 'string', 1, 'List of external IPs for the node.'),
    column('OS-Image', 'string', 1, 'OS image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).'),
    column('Kernel-Version', 'string', 1, 'Kernel version reported by the node from \'uname -r\' (e.g. 3.16.0-0.bpo.4-amd64).'),
    column('Container-Runtime', 'string', 1, 'Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).'),
  ],
  cells: (n, now) => {
    const info = n.status?.nodeInfo ?? {};
    return [n.metadata.name, nodeStatus(n), roles(n), age(n, now), info.kubeletVersion ?? '',
      address(n, 'InternalIP'), address(n, 'ExternalIP'), info.osImage || '<unknown>', info.kernelVersion || '<unknown>', info.containerRuntimeVersion || '<unknown>'];
  },
  fieldLabels: (n) => ({ 'spec.unschedulable': String(n.spec?.unschedulable ?? false) }),
};
