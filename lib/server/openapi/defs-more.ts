// More compact schemas (see dsl.ts): PersistentVolumeClaim, Lease, Ingress, NetworkPolicy.
import type { DefTable } from './dsl.ts';

const std = { apiVersion: 'V', kind: 'K', metadata: 'meta.ObjectMeta' } as const;

export const storageClaimDefs: DefTable = {
  'core.PersistentVolumeClaim': ["A user's request for and claim to a persistent volume.", { ...std, spec: 'core.PersistentVolumeClaimSpec', status: 'o' }],
  'core.PersistentVolumeClaimSpec': ['Desired characteristics of a volume.', {
    accessModes: '[s|ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.', selector: 'meta.LabelSelector',
    resources: 'core.VolumeResourceRequirements|Minimum resources the volume should have.', volumeName: 's', storageClassName: 's',
    volumeMode: 's|Filesystem or Block.', dataSource: 'o', dataSourceRef: 'o', volumeAttributesClassName: 's',
  }],
  'core.VolumeResourceRequirements': ['Storage resource requirements.', { limits: '{q', requests: '{q|Minimum amount of storage, e.g. storage: 1Gi.' }],
};

export const coordinationDefs: DefTable = {
  'coordination.Lease': ['A lease: leader election and node heartbeats.', { ...std, spec: 'coordination.LeaseSpec' }],
  'coordination.LeaseSpec': ['Specification of a Lease.', {
    holderIdentity: 's|Identity of the holder.', leaseDurationSeconds: 'i|Seconds candidates wait before forcing acquisition.',
    acquireTime: 's|When the current lease was acquired (MicroTime).', renewTime: 's|When the holder last renewed the lease (MicroTime).',
    leaseTransitions: 'i', strategy: 's', preferredHolder: 's',
  }],
};

export const networkingDefs: DefTable = {
  'networking.Ingress': ['A collection of rules that allow inbound connections to reach services.', { ...std, spec: 'networking.IngressSpec', status: 'o' }],
  'networking.IngressSpec': ['Specification of an Ingress.', {
    ingressClassName: 's|Name of the IngressClass.', defaultBackend: 'networking.IngressBackend', tls: '[networking.IngressTLS', rules: '[networking.IngressRule',
  }],
  'networking.IngressTLS': ['TLS settings of an Ingress.', { hosts: '[s', secretName: 's' }],
  'networking.IngressRule': ['Maps the paths under a host to backends.', { host: 's', http: 'networking.HTTPIngressRuleValue' }],
  'networking.HTTPIngressRuleValue': ['A list of HTTP paths.', { paths: '[networking.HTTPIngressPath*' }],
  'networking.HTTPIngressPath': ['A path and its backend.', { path: 's', pathType: 's*|Exact, Prefix or ImplementationSpecific.', backend: 'networking.IngressBackend*' }],
  'networking.IngressBackend': ['A service or resource backend.', { service: 'networking.IngressServiceBackend', resource: 'o' }],
  'networking.IngressServiceBackend': ['A service backend.', { name: 's*', port: 'networking.ServiceBackendPort' }],
  'networking.ServiceBackendPort': ['A service port by name or number.', { name: 's', number: 'i' }],
  'networking.NetworkPolicy': ['Allowed traffic to and from a set of pods.', { ...std, spec: 'networking.NetworkPolicySpec' }],
  'networking.NetworkPolicySpec': ['Specification of a NetworkPolicy.', {
    podSelector: 'meta.LabelSelector|Pods the policy applies to; empty selects all pods in the namespace.', ingress: '[networking.NetworkPolicyIngressRule',
    egress: '[networking.NetworkPolicyEgressRule', policyTypes: '[s|Ingress, Egress or both.',
  }],
  'networking.NetworkPolicyIngressRule': ['Allowed incoming traffic.', { ports: '[networking.NetworkPolicyPort', from: '[networking.NetworkPolicyPeer' }],
  'networking.NetworkPolicyEgressRule': ['Allowed outgoing traffic.', { ports: '[networking.NetworkPolicyPort', to: '[networking.NetworkPolicyPeer' }],
  'networking.NetworkPolicyPeer': ['A peer: pods, namespaces or an IP block.', { podSelector: 'meta.LabelSelector', namespaceSelector: 'meta.LabelSelector', ipBlock: 'networking.IPBlock' }],
  'networking.NetworkPolicyPort': ['A port.', { protocol: 's', port: 'x', endPort: 'i' }],
  'networking.IPBlock': ['A CIDR with exceptions.', { cidr: 's*', except: '[s' }],
};

export const rbacDefs: DefTable = {
  'rbac.Role': ['A namespaced set of permissions.', { ...std, rules: '[rbac.PolicyRule|Permissions of the role.' }],
  'rbac.ClusterRole': ['A cluster-wide set of permissions.', { ...std, rules: '[rbac.PolicyRule', aggregationRule: 'rbac.AggregationRule' }],
  'rbac.RoleBinding': ['Grants the permissions of a Role or ClusterRole within a namespace.', { ...std, subjects: '[rbac.Subject', roleRef: 'rbac.RoleRef*' }],
  'rbac.ClusterRoleBinding': ['Grants the permissions of a ClusterRole cluster-wide.', { ...std, subjects: '[rbac.Subject', roleRef: 'rbac.RoleRef*' }],
  'rbac.PolicyRule': ['Verbs allowed on resources or non-resource URLs.', { verbs: '[s*', apiGroups: '[s', resources: '[s', resourceNames: '[s', nonResourceURLs: '[s' }],
  'rbac.AggregationRule': ['Selects ClusterRoles whose rules are aggregated.', { clusterRoleSelectors: '[meta.LabelSelector' }],
  'rbac.Subject': ['A user, group or service account.', { kind: 's*|User, Group or ServiceAccount.', apiGroup: 's', name: 's*', namespace: 's' }],
  'rbac.RoleRef': ['The role a binding grants.', { apiGroup: 's*', kind: 's*', name: 's*' }],
};

export const policyDefs: DefTable = {
  'policy.PodDisruptionBudget': ['Limits the voluntary disruption of a set of pods.', { ...std, spec: 'policy.PodDisruptionBudgetSpec', status: 'o' }],
  'policy.PodDisruptionBudgetSpec': ['Specification of a PodDisruptionBudget.', {
    minAvailable: 'x|Pods that must remain available (number or percentage).', selector: 'meta.LabelSelector',
    maxUnavailable: 'x|Pods that may be unavailable (number or percentage).', unhealthyPodEvictionPolicy: 's',
  }],
};

export const storageDefs: DefTable = {
  'storage.StorageClass': ['A class of dynamically provisioned persistent volumes.', {
    ...std, provisioner: 's*', parameters: '{s', reclaimPolicy: 's|Delete or Retain.', mountOptions: '[s', allowVolumeExpansion: 'b',
    volumeBindingMode: 's|Immediate or WaitForFirstConsumer.', allowedTopologies: '[o',
  }],
};

export const autoscalingDefs: DefTable = {
  'autoscaling.HorizontalPodAutoscaler': ['Scales a workload on observed metrics.', { ...std, spec: 'autoscaling.HorizontalPodAutoscalerSpec', status: 'o' }],
  'autoscaling.HorizontalPodAutoscalerSpec': ['Specification of a HorizontalPodAutoscaler.', {
    scaleTargetRef: 'autoscaling.CrossVersionObjectReference*', minReplicas: 'i', maxReplicas: 'i*', metrics: '[o|Metrics used to compute the desired replica count.',
    behavior: 'o|Scaling behavior up and down.',
  }],
  'autoscaling.CrossVersionObjectReference': ['The scaled resource.', { kind: 's*', name: 's*', apiVersion: 's' }],
  'autoscalingv1.HorizontalPodAutoscaler': ['Scales a workload on CPU utilization.', { ...std, spec: 'autoscalingv1.HorizontalPodAutoscalerSpec', status: 'o' }],
  'autoscalingv1.HorizontalPodAutoscalerSpec': ['Specification of a HorizontalPodAutoscaler.', {
    scaleTargetRef: 'autoscalingv1.CrossVersionObjectReference*', minReplicas: 'i', maxReplicas: 'i*', targetCPUUtilizationPercentage: 'i',
  }],
  'autoscalingv1.CrossVersionObjectReference': ['The scaled resource.', { kind: 's*', name: 's*', apiVersion: 's' }],
};

export const apiextensionsDefs: DefTable = {
  'apiextensions.CustomResourceDefinition': ['A resource served by the API server, defined by its schema.', { ...std, spec: 'apiextensions.CustomResourceDefinitionSpec*', status: 'o' }],
  'apiextensions.CustomResourceDefinitionSpec': ['Specification of a CustomResourceDefinition.', {
    group: 's*|API group of the resources (a domain with at least one dot).', names: 'apiextensions.CustomResourceDefinitionNames*',
    scope: 's*|Namespaced or Cluster.', versions: '[apiextensions.CustomResourceDefinitionVersion*|Served versions; exactly one is the storage version.',
    conversion: 'o', preserveUnknownFields: 'b',
  }],
  'apiextensions.CustomResourceDefinitionNames': ['Names of the custom resources.', {
    plural: 's*', singular: 's', shortNames: '[s', kind: 's*', listKind: 's', categories: '[s',
  }],
  'apiextensions.CustomResourceDefinitionVersion': ['A served version of the custom resources.', {
    name: 's*', served: 'b*', storage: 'b*', deprecated: 'b', deprecationWarning: 's',
    schema: 'o|openAPIV3Schema: the structural schema of this version.', subresources: 'o|status and scale.',
    additionalPrinterColumns: '[o|Extra columns of kubectl get.', selectableFields: '[o',
  }],
};
