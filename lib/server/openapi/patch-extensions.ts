// The x-kubernetes-* list, map and patch extensions of the built-in types, as the `patchStrategy`/`patchMergeKey`
// struct tags and `+listType`/`+listMapKey`/`+mapType`/`+structType` markers of k8s.io/api (and of apimachinery's
// meta/v1, apiextensions-apiserver and kube-aggregator) declare them; checked field by field against those sources
// (fields newer than the source package's schemas are left out: they would be no-ops).
// The source package (k8s-source.ts) drops them; kubectl's client-side apply needs them to build strategic merge
// patches (without them every list is replaced whole). Lists not named here are atomic, as upstream's default (the
// upstream documents also spell out `x-kubernetes-list-type: atomic` on them; these do not).
import type { Schema } from './k8s-source.ts';

// Notation: 'm:k' merge by key k (list-type map, map key k); 'm:k+j' merge by k, map keys k and j; 'mr:k'
// merge,retainKeys by k; 'm!:k' merge by k but list-type atomic; 'set' merge as a set (list-type set); 'lset'
// list-type set, no patch strategy; 'map:k+j' list-type map with no patch strategy; 'r' retainKeys on a struct
// field; 'rep' patch strategy replace on a struct field; 'amap'/'gmap' map-type atomic/granular on a map field.
const CONTAINER = { ports: 'm:containerPort+protocol', env: 'm:name', volumeMounts: 'm:mountPath', volumeDevices: 'm:devicePath' };
const CONDITIONS = { conditions: 'm:type' };
const MATCH_CONDITIONS = { matchConditions: 'm:name' };

export const PATCH_EXTENSIONS: Record<string, Record<string, string>> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': { finalizers: 'set', ownerReferences: 'm:uid' },
  // core/v1
  'io.k8s.api.core.v1.PodSpec': {
    volumes: 'mr:name', initContainers: 'm:name', containers: 'm:name', ephemeralContainers: 'm:name', imagePullSecrets: 'm:name',
    hostAliases: 'm:ip', topologySpreadConstraints: 'm:topologyKey+whenUnsatisfiable', resourceClaims: 'mr:name', schedulingGates: 'm:name',
    nodeSelector: 'amap',
  },
  'io.k8s.api.core.v1.Container': CONTAINER,
  'io.k8s.api.core.v1.EphemeralContainer': CONTAINER,
  'io.k8s.api.core.v1.ResourceRequirements': { claims: 'map:name' },
  'io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes': { values: 'lset' },
  'io.k8s.api.core.v1.PodStatus': {
    conditions: 'm:type', podIPs: 'm:ip', hostIPs: 'm!:ip', resourceClaimStatuses: 'mr:name',
    nodeAllocatableResourceClaimStatuses: 'm:resourceClaimName',
  },
  'io.k8s.api.core.v1.ContainerStatus': { volumeMounts: 'm:mountPath', allocatedResourcesStatus: 'm:name' },
  'io.k8s.api.core.v1.ResourceStatus': { resources: 'map:resourceID' },
  'io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus': { containers: 'lset' },
  'io.k8s.api.core.v1.ServiceSpec': { ports: 'm:port+protocol', selector: 'amap' },
  'io.k8s.api.core.v1.ServiceStatus': CONDITIONS,
  'io.k8s.api.core.v1.ServiceAccount': { secrets: 'm:name' },
  'io.k8s.api.core.v1.NodeSpec': { podCIDRs: 'set' },
  'io.k8s.api.core.v1.NodeStatus': { conditions: 'm:type', addresses: 'm:type' },
  'io.k8s.api.core.v1.NamespaceStatus': CONDITIONS,
  'io.k8s.api.core.v1.ComponentStatus': CONDITIONS,
  'io.k8s.api.core.v1.PersistentVolumeClaimStatus': { conditions: 'm:type', allocatedResourceStatuses: 'gmap' },
  'io.k8s.api.core.v1.ReplicationControllerSpec': { selector: 'amap' },
  'io.k8s.api.core.v1.ReplicationControllerStatus': CONDITIONS,
  // apps/v1 (StatefulSet and DaemonSet updateStrategy carry no retainKeys upstream, only Deployment's strategy)
  'io.k8s.api.apps.v1.DeploymentSpec': { strategy: 'r' },
  'io.k8s.api.apps.v1.DeploymentStatus': CONDITIONS,
  'io.k8s.api.apps.v1.ReplicaSetStatus': CONDITIONS,
  'io.k8s.api.apps.v1.DaemonSetStatus': CONDITIONS,
  'io.k8s.api.apps.v1.StatefulSetStatus': CONDITIONS,
  // batch/v1
  'io.k8s.api.batch.v1.JobStatus': { conditions: 'm!:type' },
  'io.k8s.api.batch.v1.UncountedTerminatedPods': { succeeded: 'lset', failed: 'lset' },
  'io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement': { values: 'lset' },
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus': CONDITIONS,
  'io.k8s.api.policy.v1.PodDisruptionBudgetSpec': { selector: 'rep' },
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': CONDITIONS,
  'io.k8s.api.discovery.v1.Endpoint': { addresses: 'lset' },
  'io.k8s.api.networking.v1.ServiceCIDRStatus': CONDITIONS,
  'io.k8s.api.certificates.v1.CertificateSigningRequestStatus': { conditions: 'map:type' },
  'io.k8s.api.storage.v1.CSINodeSpec': { drivers: 'm:name' },
  'io.k8s.api.storage.v1.CSIDriverSpec': { volumeLifecycleModes: 'lset' },
  'io.k8s.api.flowcontrol.v1.FlowSchemaStatus': CONDITIONS,
  'io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationStatus': CONDITIONS,
  'io.k8s.api.flowcontrol.v1.ResourcePolicyRule': { verbs: 'lset', apiGroups: 'lset', resources: 'lset', namespaces: 'lset' },
  'io.k8s.api.flowcontrol.v1.NonResourcePolicyRule': { verbs: 'lset', nonResourceURLs: 'lset' },
  'io.k8s.api.resource.v1.ResourceClaimStatus': { reservedFor: 'm:uid', devices: 'map:driver+device+pool+shareID' },
  'io.k8s.api.resource.v1.AllocatedDeviceStatus': { conditions: 'map:type' },
  // admissionregistration/v1
  'io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration': { webhooks: 'm:name' },
  'io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration': { webhooks: 'm:name' },
  'io.k8s.api.admissionregistration.v1.ValidatingWebhook': MATCH_CONDITIONS,
  'io.k8s.api.admissionregistration.v1.MutatingWebhook': MATCH_CONDITIONS,
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec': { matchConditions: 'm:name', variables: 'm:name' },
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus': { conditions: 'map:type' },
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec': { validationActions: 'lset' },
  'io.k8s.api.admissionregistration.v1.MutatingAdmissionPolicySpec': MATCH_CONDITIONS,
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus': { conditions: 'map:type' },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps': { 'x-kubernetes-validations': 'm:rule' },
  'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus': CONDITIONS,
};

// Struct types marked `+structType=atomic` upstream: their schemas carry `x-kubernetes-map-type: atomic` (owned whole
// by server-side apply).
export const ATOMIC_STRUCTS: readonly string[] = [
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector', 'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference',
  ...['SecretReference', 'FileKeySelector', 'ObjectFieldSelector', 'ResourceFieldSelector', 'ConfigMapKeySelector', 'SecretKeySelector',
    'NodeSelector', 'NodeSelectorTerm', 'TopologySelectorTerm', 'EndpointAddress', 'EndpointPort', 'ObjectReference',
    'LocalObjectReference', 'TypedLocalObjectReference', 'ScopeSelector'].map((n) => `io.k8s.api.core.v1.${n}`),
  ...['ParamKind', 'Variable', 'ParamRef', 'MatchResources', 'NamedRuleWithOperations'].map((n) => `io.k8s.api.admissionregistration.v1.${n}`),
  'io.k8s.api.discovery.v1.EndpointPort', 'io.k8s.api.networking.v1.ServiceBackendPort',
  'io.k8s.api.rbac.v1.Subject', 'io.k8s.api.rbac.v1.RoleRef',
];

/** The extensions one notation stands for. */
export function extensionsOf(spec: string): Schema {
  if (spec === 'r') return { 'x-kubernetes-patch-strategy': 'retainKeys' };
  if (spec === 'rep') return { 'x-kubernetes-patch-strategy': 'replace' };
  if (spec === 'amap') return { 'x-kubernetes-map-type': 'atomic' };
  if (spec === 'gmap') return { 'x-kubernetes-map-type': 'granular' };
  if (spec === 'set') return { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' };
  if (spec === 'lset') return { 'x-kubernetes-list-type': 'set' };
  const [kind, keys] = spec.split(':') as [string, string];
  const mapKeys = keys.split('+');
  if (kind === 'map') return { 'x-kubernetes-list-map-keys': mapKeys, 'x-kubernetes-list-type': 'map' };
  const patch = { 'x-kubernetes-patch-merge-key': mapKeys[0], 'x-kubernetes-patch-strategy': kind === 'mr' ? 'merge,retainKeys' : 'merge' };
  if (kind === 'm!') return { 'x-kubernetes-list-type': 'atomic', ...patch };
  return { 'x-kubernetes-list-map-keys': mapKeys, 'x-kubernetes-list-type': 'map', ...patch };
}

/** Adds the extensions to the schemas present (in place). */
export function applyPatchExtensions(schemas: Record<string, Schema>): void {
  for (const [name, fields] of Object.entries(PATCH_EXTENSIONS)) {
    const props = schemas[name]?.properties as Record<string, Schema> | undefined;
    if (!props) continue;
    for (const [field, spec] of Object.entries(fields)) if (props[field]) Object.assign(props[field], extensionsOf(spec));
  }
  for (const name of ATOMIC_STRUCTS) if (schemas[name]) schemas[name]['x-kubernetes-map-type'] = 'atomic';
}
