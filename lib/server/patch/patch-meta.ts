// Patch strategy of the lists in built-in kinds, as the `patchStrategy`/`patchMergeKey` struct tags of k8s.io/api
// declare them. A path is the list of field names from the object root, list steps left out
// (spec.template.spec.containers.ports). Rules match on the path's end; the longest matching rule wins. Checked
// against the upstream tags (the OpenAPI form of the same facts is lib/server/openapi/patch-extensions.ts).

// Only the patch strategy lives here: server-side apply's list types (x-kubernetes-list-type, which differ for some
// fields) come from patch-extensions.ts (lib/server/registry/field-set.ts applyListType).

export interface ListPatchMeta {
  /** 'merge': merge lists (by key for lists of objects, as a set for primitives); 'replace': atomic (lists) or replaced
   * whole (struct fields with patchStrategy replace). */
  strategy: 'merge' | 'replace';
  /** Merge key for lists of objects. */
  key?: string;
  /** The field carries patchStrategy retainKeys (maps) or merge,retainKeys (lists). */
  retainKeys?: boolean;
}

/** Returns the strategy of the field at path (list steps omitted), or undefined for atomic/unknown fields. */
export type PatchMetaLookup = (path: readonly string[]) => ListPatchMeta | undefined;

const m = (key?: string, retainKeys?: boolean): ListPatchMeta => ({ strategy: 'merge', key, retainKeys });

// Suffix rules shared by every kind.
const common: Record<string, ListPatchMeta> = {
  'metadata.finalizers': m(),
  'metadata.ownerReferences': m('uid'),
  containers: m('name'),
  initContainers: m('name'),
  ephemeralContainers: m('name'),
  'containers.ports': m('containerPort'),
  'initContainers.ports': m('containerPort'),
  'ephemeralContainers.ports': m('containerPort'),
  'ephemeralContainers.volumeDevices': m('devicePath'),
  'containers.env': m('name'),
  'initContainers.env': m('name'),
  'ephemeralContainers.env': m('name'),
  'containers.volumeMounts': m('mountPath'),
  'initContainers.volumeMounts': m('mountPath'),
  'ephemeralContainers.volumeMounts': m('mountPath'),
  'containers.volumeDevices': m('devicePath'),
  'initContainers.volumeDevices': m('devicePath'),
  'containers.resizePolicy': { strategy: 'replace' },
  volumes: m('name', true),
  imagePullSecrets: m('name'),
  hostAliases: m('ip'),
  topologySpreadConstraints: m('topologyKey'),
  resourceClaims: m('name', true),
  schedulingGates: m('name'),
  'status.conditions': m('type'),
  'status.addresses': m('type'),
  'status.containerStatuses': { strategy: 'replace' },
  'status.podIPs': m('ip'),
  'status.hostIPs': m('ip'),
  'status.resourceClaimStatuses': m('name', true),
  'status.nodeAllocatableResourceClaimStatuses': m('resourceClaimName'),
  'nodeAllocatableResourceClaimStatuses.containers': { strategy: 'replace' },
  'spec.podCIDRs': m(),
  'secrets': m('name'),
};

const replace: ListPatchMeta = { strategy: 'replace' };
const byKind: Record<string, Record<string, ListPatchMeta>> = {
  // no patch strategy upstream on these conditions (listType=map for apply only): replaced whole by PATCH
  CustomResourceDefinition: { 'status.conditions': replace },
  CertificateSigningRequest: { 'status.conditions': replace },
  ValidatingAdmissionPolicy: { 'spec.matchConditions': m('name'), 'spec.variables': m('name'), 'status.conditions': replace },
  // PodDisruptionBudgetSpec.selector: patchStrategy=replace
  PodDisruptionBudget: { 'spec.selector': replace },
  Service: { 'spec.ports': m('port') },
  Deployment: {},
  // PodSpec's imagePullSecrets merge by name; ServiceAccount's are atomic
  ServiceAccount: { imagePullSecrets: { strategy: 'replace' } },
  ComponentStatus: { conditions: m('type') },
  CSINode: { 'spec.drivers': m('name') },
  ResourceClaim: { 'status.reservedFor': m('uid') },
  ValidatingWebhookConfiguration: { webhooks: m('name'), 'webhooks.matchConditions': m('name') },
  MutatingWebhookConfiguration: { webhooks: m('name'), 'webhooks.matchConditions': m('name') },
  MutatingAdmissionPolicy: { 'spec.matchConditions': m('name') },
};

// Map fields with patchStrategy retainKeys (no list semantics): the directive is honoured wherever it appears, but
// these are listed for completeness of the metadata. Only Deployment's strategy has it (StatefulSet and DaemonSet
// updateStrategy do not).
export const retainKeyMaps = ['spec.strategy'];

/** Patch metadata for a built-in kind (unknown kinds get the common rules, which are harmless for them). */
export function builtinPatchMeta(kind: string): PatchMetaLookup {
  const rules = { ...common, ...(byKind[kind] ?? {}) };
  return (path) => {
    for (let start = 0; start < path.length; start++) {
      const hit = rules[path.slice(start).join('.')];
      if (hit) return hit;
    }
    return undefined;
  };
}
