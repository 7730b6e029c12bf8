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
