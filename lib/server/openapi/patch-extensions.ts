// The x-kubernetes-* list and patch extensions of the built-in types, as the `patchStrategy`/`patchMergeKey` struct
// tags and `+listType`/`+listMapKey` markers of k8s.io/api declare them. The source package (k8s-source.ts) drops
// them; kubectl's client-side apply needs them to build strategic merge patches (without them every list is
// replaced whole). Lists not named here are atomic, as upstream's default.
import type { Schema } from './k8s-source.ts';

// Notation: 'm:k' merge by key k (list-type map); 'm:k+j' merge by k, map keys k and j; 'mr:k' merge,retainKeys
// by k; 'm!:k' merge by k but list-type atomic; 'set' merge as a set; 'map:k' list-type map with no patch strategy;
// 'r' retainKeys on a struct field.
const CONTAINER = { ports: 'm:containerPort+protocol', env: 'm:name', volumeMounts: 'm:mountPath', volumeDevices: 'm:devicePath' };
const CONDITIONS = { conditions: 'm:type' };

export const PATCH_EXTENSIONS: Record<string, Record<string, string>> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': { finalizers: 'set', ownerReferences: 'm:uid' },
  'io.k8s.api.core.v1.PodSpec': {
    volumes: 'mr:name', initContainers: 'm:name', containers: 'm:name', ephemeralContainers: 'm:name', imagePullSecrets: 'm:name',
    hostAliases: 'm:ip', topologySpreadConstraints: 'm:topologyKey+whenUnsatisfiable', resourceClaims: 'mr:name', schedulingGates: 'm:name',
  },
  'io.k8s.api.core.v1.Container': CONTAINER,
  'io.k8s.api.core.v1.EphemeralContainer': CONTAINER,
  'io.k8s.api.core.v1.ResourceRequirements': { claims: 'map:name' },
  'io.k8s.api.core.v1.PodStatus': { conditions: 'm:type', podIPs: 'm:ip', hostIPs: 'm!:ip', resourceClaimStatuses: 'mr:name' },
  'io.k8s.api.core.v1.ServiceSpec': { ports: 'm:port+protocol' },
  'io.k8s.api.core.v1.ServiceStatus': CONDITIONS,
  'io.k8s.api.core.v1.ServiceAccount': { secrets: 'm:name' },
  'io.k8s.api.core.v1.NodeSpec': { podCIDRs: 'set' },
  'io.k8s.api.core.v1.NodeStatus': { conditions: 'm:type', addresses: 'm:type' },
  'io.k8s.api.core.v1.NamespaceStatus': CONDITIONS,
  'io.k8s.api.core.v1.PersistentVolumeClaimStatus': CONDITIONS,
  'io.k8s.api.core.v1.ReplicationControllerStatus': CONDITIONS,
  'io.k8s.api.apps.v1.DeploymentSpec': { strategy: 'r' },
  'io.k8s.api.apps.v1.DeploymentStatus': CONDITIONS,
  'io.k8s.api.apps.v1.ReplicaSetStatus': CONDITIONS,
  'io.k8s.api.apps.v1.DaemonSetStatus': CONDITIONS,
  'io.k8s.api.apps.v1.StatefulSetStatus': CONDITIONS,
  'io.k8s.api.batch.v1.JobStatus': { conditions: 'm!:type' },
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus': CONDITIONS,
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': CONDITIONS,
  'io.k8s.api.storage.v1.CSINodeSpec': { drivers: 'm:name' },
  'io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration': { webhooks: 'm:name' },
  'io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration': { webhooks: 'm:name' },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus': { conditions: 'map:type' },
  'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus': CONDITIONS,
};

/** The extensions one notation stands for. */
export function extensionsOf(spec: string): Schema {
  if (spec === 'r') return { 'x-kubernetes-patch-strategy': 'retainKeys' };
  if (spec === 'set') return { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' };
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
}
