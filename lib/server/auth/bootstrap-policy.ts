// The default RBAC objects, as data, created at server start when missing (Kubernetes' bootstrap policy, trimmed
// to what a tsk cluster serves).
import type { KubeObject } from '../../client/types.ts';
import type { PolicyRule } from './rbac.ts';

const RO = ['get', 'list', 'watch'];
const RW = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const ALL_RW = [...RO, ...RW];

const meta = (name: string, labels: Record<string, string> = {}) => ({
  name,
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults', ...labels },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
});

const r = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({ apiGroups, resources, verbs });
const url = (nonResourceURLs: string[], verbs: string[]): PolicyRule => ({ nonResourceURLs, verbs });

function clusterRole(name: string, rules: PolicyRule[], labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(name, labels), rules };
}

function aggregated(name: string, selectorLabel: string, labels?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: meta(name, labels),
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [selectorLabel]: 'true' } }] },
    rules: [],
  };
}

type Subj = { kind: 'Group' | 'User' | 'ServiceAccount'; name: string; namespace?: string };

function binding(name: string, role: string, subjects: Subj[]): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: meta(name),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: subjects.map((s) => (s.kind === 'ServiceAccount' ? s : { apiGroup: 'rbac.authorization.k8s.io', ...s })),
  };
}

const AGG = 'rbac.authorization.k8s.io/aggregate-to-';

const viewRules: PolicyRule[] = [
  r([''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status'], RO),
  r([''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status'], RO),
  r([''], ['namespaces'], RO),
  r(['discovery.k8s.io'], ['endpointslices'], RO),
  r(['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status'], RO),
  r(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], RO),
  r(['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], RO),
  r(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], RO),
  r(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], RO),
  r(['coordination.k8s.io'], ['leases'], RO),
];

const editRules: PolicyRule[] = [
  r([''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], RO),
  r([''], ['serviceaccounts'], ['impersonate']),
  r([''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], RW),
  r([''], ['pods/eviction'], ['create']),
  r([''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy'], RW),
  r([''], ['serviceaccounts/token'], ['create']),
  r(['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'], RW),
  r(['autoscaling'], ['horizontalpodautoscalers'], RW),
  r(['batch'], ['cronjobs', 'jobs'], RW),
  r(['policy'], ['poddisruptionbudgets'], RW),
  r(['networking.k8s.io'], ['ingresses', 'networkpolicies'], RW),
  r(['discovery.k8s.io'], ['endpointslices'], RW),
  r(['coordination.k8s.io'], ['leases'], RW),
];

const adminRules: PolicyRule[] = [
  r(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']),
  r(['rbac.authorization.k8s.io'], ['rolebindings', 'roles'], ALL_RW),
];

/** Rules Kubernetes gives nodes; enforced per node by the node authorizer, so this role is not bound. */
export const nodeRules: PolicyRule[] = [
  r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
  r(['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews'], ['create']),
  r([''], ['services'], RO),
  r([''], ['nodes'], ['create', 'get', 'list', 'watch', 'patch', 'update']),
  r([''], ['nodes/status'], ['patch', 'update']),
  r([''], ['events'], ['create', 'patch', 'update']),
  r([''], ['pods'], ['get', 'list', 'watch', 'create', 'delete']),
  r([''], ['pods/status'], ['patch', 'update']),
  r([''], ['pods/eviction'], ['create']),
  r([''], ['configmaps', 'secrets'], ['get', 'list', 'watch']),
  r([''], ['persistentvolumeclaims', 'persistentvolumes'], ['get']),
  r([''], ['persistentvolumeclaims/status'], ['get', 'patch', 'update']),
  r([''], ['endpoints'], ['get', 'list', 'watch']),
  r(['discovery.k8s.io'], ['endpointslices'], ['get', 'list', 'watch']),
  r([''], ['serviceaccounts/token'], ['create']),
  r(['coordination.k8s.io'], ['leases'], ['create', 'delete', 'get', 'patch', 'update']),
  r(['node.k8s.io'], ['runtimeclasses'], ['get', 'list', 'watch']),
  r(['storage.k8s.io'], ['csidrivers', 'csinodes', 'volumeattachments'], ['get', 'list', 'watch']),
];

export function bootstrapClusterRoles(): KubeObject[] {
  return [
    clusterRole('cluster-admin', [r(['*'], ['*'], ['*']), url(['*'], ['*'])]),
    aggregated('admin', `${AGG}admin`),
    aggregated('edit', `${AGG}edit`, { [`${AGG}admin`]: 'true' }),
    aggregated('view', `${AGG}view`, { [`${AGG}edit`]: 'true' }),
    clusterRole('system:aggregate-to-admin', adminRules, { [`${AGG}admin`]: 'true' }),
    clusterRole('system:aggregate-to-edit', editRules, { [`${AGG}edit`]: 'true' }),
    clusterRole('system:aggregate-to-view', viewRules, { [`${AGG}view`]: 'true' }),
    clusterRole('system:discovery', [url(['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], ['get'])]),
    clusterRole('system:public-info-viewer', [url(['/healthz', '/livez', '/readyz', '/version', '/version/', '/cacerts', '/ping'], ['get'])]),
    clusterRole('system:basic-user', [
      r(['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], ['create']),
      r(['authentication.k8s.io'], ['selfsubjectreviews'], ['create']),
    ]),
    clusterRole('system:auth-delegator', [
      r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
      r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
    ]),
    clusterRole('system:node', nodeRules),
    clusterRole('system:node-proxier', [
      r([''], ['endpoints', 'services'], ['list', 'watch']),
      r([''], ['nodes'], ['get', 'list', 'watch']),
      r(['', 'events.k8s.io'], ['events'], ['create', 'patch', 'update']),
      r(['discovery.k8s.io'], ['endpointslices'], ['list', 'watch']),
    ]),
    clusterRole('system:kube-dns', [r([''], ['endpoints', 'services'], ['list', 'watch'])]),
    // What a node's in-process service proxy, cluster DNS, overlay and network-policy enforcer read (k3s gives its
    // agents' controllers the same through system:k3s-controller). Bound to every node below.
    clusterRole('tsk:node-networking', [
      r([''], ['namespaces', 'pods', 'services', 'endpoints', 'nodes'], ['get', 'list', 'watch']),
      r(['discovery.k8s.io'], ['endpointslices'], ['get', 'list', 'watch']),
      r(['networking.k8s.io'], ['networkpolicies'], ['get', 'list', 'watch']),
    ]),
    clusterRole('system:coredns', [
      r([''], ['endpoints', 'services', 'pods', 'namespaces'], ['list', 'watch']),
      r(['discovery.k8s.io'], ['endpointslices'], ['list', 'watch']),
      r([''], ['nodes'], ['get']),
    ]),
    clusterRole('system:service-account-issuer-discovery', [url(['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'], ['get'])]),
  ];
}

export function bootstrapClusterRoleBindings(): KubeObject[] {
  return [
    binding('cluster-admin', 'cluster-admin', [{ kind: 'Group', name: 'system:masters' }]),
    binding('system:discovery', 'system:discovery', [{ kind: 'Group', name: 'system:authenticated' }]),
    binding('system:basic-user', 'system:basic-user', [{ kind: 'Group', name: 'system:authenticated' }]),
    binding('system:public-info-viewer', 'system:public-info-viewer', [{ kind: 'Group', name: 'system:authenticated' }, { kind: 'Group', name: 'system:unauthenticated' }]),
    binding('system:node-proxier', 'system:node-proxier', [{ kind: 'User', name: 'system:kube-proxy' }]),
    binding('system:kube-dns', 'system:kube-dns', [{ kind: 'ServiceAccount', name: 'kube-dns', namespace: 'kube-system' }]),
    binding('tsk:node-networking', 'tsk:node-networking', [{ kind: 'Group', name: 'system:nodes' }]),
    binding('system:coredns', 'system:coredns', [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }]),
    binding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [{ kind: 'Group', name: 'system:serviceaccounts' }]),
  ];
}
