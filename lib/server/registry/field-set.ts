// Field sets of server-side apply (structured-merge-diff's fieldpath.Set) over plain JSON objects: which fields an
// object or applied configuration holds, which fields differ between two objects, and the FieldsV1 wire form
// (`f:<field>`, `k:{"name":"x"}` for items of keyed lists, `v:<json>` for items of sets, "." for a member that also
// has children). The list shapes are upstream's `x-kubernetes-list-type`/`list-map-keys` (applyListTypes, read from
// the verified table of lib/server/openapi/patch-extensions.ts), which differ from the strategic-merge strategy for
// some fields (Job status.conditions merged by PATCH but atomic for apply; CRD status.conditions replaced by PATCH but
// keyed by type for apply). Lists that table does not locate fall back to the strategic-merge metadata: merge lists
// with a key are keyed, merge lists without one are sets, every other list is atomic (a leaf). Custom resources have
// only atomic lists.
import { builtinPatchMeta, type PatchMetaLookup } from '../patch/patch-meta.ts';
import { extensionsOf, PATCH_EXTENSIONS } from '../openapi/patch-extensions.ts';

export interface FieldSet { member: boolean; children: Map<string, FieldSet> }
export type FieldsV1 = { [k: string]: FieldsV1 };

type ListShape = { type: 'atomic' } | { type: 'set' } | { type: 'map'; keys: string[] };
/** How lists and maps of one kind are shaped (list steps are left out of `names`). */
export interface Shapes { list(names: readonly string[]): ListShape; atomicMap(names: readonly string[]): boolean }

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
export const emptySet = (): FieldSet => ({ member: false, children: new Map() });

// The server-side apply keys of keyed lists whose strategic-merge key is a single field (listMapKey in k8s.io/api).
const EXTRA_KEYS: Record<string, string[]> = {
  containerPort: ['containerPort', 'protocol'],
  port: ['port', 'protocol'],
  topologyKey: ['topologyKey', 'whenUnsatisfiable'],
};
// Maps owned whole (x-kubernetes-map-type: atomic): label selectors and the Service selector.
const ATOMIC_MAPS = new Set(['selector', 'labelSelector', 'namespaceSelector']);

// Where the types of PATCH_EXTENSIONS sit in objects: 'Kind:path' ('*' any kind; path of field names from the object
// root, list steps left out, matched on the end of a field's path; '' the object root). Types not located here
// (JSONSchemaProps, ContainerStatus, ...) leave their lists to the strategic-merge metadata.
const core = (n: string) => `io.k8s.api.core.v1.${n}`;
const STATUS_OF: Record<string, string> = {
  [core('ServiceStatus')]: 'Service', [core('NamespaceStatus')]: 'Namespace', [core('PersistentVolumeClaimStatus')]: 'PersistentVolumeClaim',
  [core('ReplicationControllerStatus')]: 'ReplicationController', [core('NodeStatus')]: 'Node', [core('PodStatus')]: 'Pod',
  'io.k8s.api.apps.v1.DeploymentStatus': 'Deployment', 'io.k8s.api.apps.v1.ReplicaSetStatus': 'ReplicaSet',
  'io.k8s.api.apps.v1.DaemonSetStatus': 'DaemonSet', 'io.k8s.api.apps.v1.StatefulSetStatus': 'StatefulSet',
  'io.k8s.api.batch.v1.JobStatus': 'Job', 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus': 'HorizontalPodAutoscaler',
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': 'PodDisruptionBudget', 'io.k8s.api.networking.v1.ServiceCIDRStatus': 'ServiceCIDR',
  'io.k8s.api.certificates.v1.CertificateSigningRequestStatus': 'CertificateSigningRequest',
  'io.k8s.api.flowcontrol.v1.FlowSchemaStatus': 'FlowSchema', 'io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationStatus': 'PriorityLevelConfiguration',
  'io.k8s.api.resource.v1.ResourceClaimStatus': 'ResourceClaim',
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus': 'ValidatingAdmissionPolicy',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus': 'CustomResourceDefinition',
  'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus': 'APIService',
};
const containerLists = ['containers', 'initContainers'];
export const APPLY_LOCATIONS: Record<string, readonly string[]> = {
  ...Object.fromEntries(Object.entries(STATUS_OF).map(([type, kind]) => [type, [`${kind}:status`]])),
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': ['*:metadata'],
  [core('PodSpec')]: ['*:spec'],
  [core('Container')]: containerLists.map((l) => `*:${l}`),
  [core('EphemeralContainer')]: ['*:ephemeralContainers'],
  [core('ResourceRequirements')]: [...containerLists, 'ephemeralContainers'].map((l) => `*:${l}.resources`),
  [core('NodeAllocatableResourceClaimStatus')]: ['Pod:status.nodeAllocatableResourceClaimStatuses'],
  [core('ServiceSpec')]: ['Service:spec'],
  [core('ServiceAccount')]: ['ServiceAccount:'],
  [core('NodeSpec')]: ['Node:spec'],
  [core('ComponentStatus')]: ['ComponentStatus:'],
  [core('ReplicationControllerSpec')]: ['ReplicationController:spec'],
  'io.k8s.api.apps.v1.DeploymentSpec': ['Deployment:spec'],
  'io.k8s.api.batch.v1.UncountedTerminatedPods': ['Job:status.uncountedTerminatedPods'],
  'io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement': ['*:podFailurePolicy.rules.onExitCodes'],
  'io.k8s.api.policy.v1.PodDisruptionBudgetSpec': ['PodDisruptionBudget:spec'],
  'io.k8s.api.discovery.v1.Endpoint': ['EndpointSlice:endpoints'],
  'io.k8s.api.storage.v1.CSINodeSpec': ['CSINode:spec'],
  'io.k8s.api.storage.v1.CSIDriverSpec': ['CSIDriver:spec'],
  'io.k8s.api.flowcontrol.v1.ResourcePolicyRule': ['FlowSchema:spec.rules.resourceRules'],
  'io.k8s.api.flowcontrol.v1.NonResourcePolicyRule': ['FlowSchema:spec.rules.nonResourceRules'],
  'io.k8s.api.resource.v1.AllocatedDeviceStatus': ['ResourceClaim:status.devices'],
  'io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration': ['ValidatingWebhookConfiguration:'],
  'io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration': ['MutatingWebhookConfiguration:'],
  'io.k8s.api.admissionregistration.v1.ValidatingWebhook': ['ValidatingWebhookConfiguration:webhooks'],
  'io.k8s.api.admissionregistration.v1.MutatingWebhook': ['MutatingWebhookConfiguration:webhooks'],
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec': ['ValidatingAdmissionPolicy:spec'],
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec': ['ValidatingAdmissionPolicyBinding:spec'],
  'io.k8s.api.admissionregistration.v1.MutatingAdmissionPolicySpec': ['MutatingAdmissionPolicy:spec'],
};

// Field names that some rule makes an atomic map (a cheap test before the suffix lookup).
const ATOMIC_MAP_FIELDS = new Set(Object.values(PATCH_EXTENSIONS).flatMap((f) => Object.entries(f))
  .filter(([, spec]) => spec === 'amap' || spec === 'rep').map(([field]) => field));

/** Server-side apply's view of one field: its list type (and map keys), or a map owned whole. */
export type ApplyFieldType = ListShape | { type: 'atomicMap' };
type Rules = Map<string, ApplyFieldType>;
const ruleCache = new Map<string, Rules>();

function applyRules(kind: string): Rules {
  let rules = ruleCache.get(kind);
  if (rules) return rules;
  rules = new Map();
  for (const [type, locations] of Object.entries(APPLY_LOCATIONS)) {
    const fields = PATCH_EXTENSIONS[type];
    if (!fields) continue;
    for (const loc of locations) {
      const at = loc.indexOf(':');
      const k = loc.slice(0, at), prefix = loc.slice(at + 1);
      if (k !== '*' && k !== kind) continue;
      for (const [field, spec] of Object.entries(fields)) {
        const ext = extensionsOf(spec);
        const listType = ext['x-kubernetes-list-type'];
        let ft: ApplyFieldType | undefined;
        if (listType === 'map') ft = { type: 'map', keys: ext['x-kubernetes-list-map-keys'] as string[] };
        else if (listType === 'set' || listType === 'atomic') ft = { type: listType };
        else if (spec === 'amap' || spec === 'rep') ft = { type: 'atomicMap' };
        if (!ft) continue;
        const key = prefix ? `${prefix}.${field}` : field;
        // a kind's own location wins over a '*' one of the same path
        if (k !== '*' || !rules.has(key)) rules.set(key, ft);
      }
    }
  }
  ruleCache.set(kind, rules);
  return rules;
}

/** Upstream's apply type of the field at path (list steps omitted) from patch-extensions.ts; undefined: not stated
 * there (the longest matching path suffix wins). */
export function applyListType(kind: string, path: readonly string[]): ApplyFieldType | undefined {
  const rules = applyRules(kind);
  for (let start = 0; start < path.length; start++) {
    const hit = rules.get(path.slice(start).join('.'));
    if (hit) return hit;
  }
  return undefined;
}

/** Shapes of a built-in kind; undefined (custom resources): every list atomic. */
export function shapesFor(kind: string | undefined): Shapes {
  if (kind === undefined) return { list: () => ({ type: 'atomic' }), atomicMap: () => false };
  const meta: PatchMetaLookup = builtinPatchMeta(kind);
  return {
    list(names) {
      const at = applyListType(kind, names);
      if (at && at.type !== 'atomicMap') return at;
      const lm = meta(names);
      if (!lm || lm.strategy !== 'merge') return { type: 'atomic' };
      if (!lm.key) return { type: 'set' };
      return { type: 'map', keys: EXTRA_KEYS[lm.key] ?? [lm.key] };
    },
    atomicMap(names) {
      if (names.length < 2) return false;
      const last = names[names.length - 1]!;
      if (ATOMIC_MAPS.has(last) && names[0] !== 'status') return true;
      return ATOMIC_MAP_FIELDS.has(last) && applyListType(kind, names)?.type === 'atomicMap';
    },
  };
}

/** The path element of a list item: `k:{...}` for keyed lists (protocol defaults to TCP), `v:<json>` otherwise. */
export function itemKey(item: unknown, shape: ListShape): string {
  if (shape.type !== 'map' || !isMap(item)) return `v:${JSON.stringify(item)}`;
  const o: Record<string, unknown> = {};
  for (const k of [...shape.keys].sort()) {
    const v = item[k] ?? (k === 'protocol' ? 'TCP' : undefined);
    if (v !== undefined) o[k] = v;
  }
  return `k:${JSON.stringify(o)}`;
}

function insert(s: FieldSet, path: readonly string[]): void {
  let cur = s;
  for (const p of path) {
    let c = cur.children.get(p);
    if (!c) { c = emptySet(); cur.children.set(p, c); }
    cur = c;
  }
  if (path.length) cur.member = true;
}

/** The fields a value sets (ToFieldSet): leaves, empty maps, items of granular lists; atomic lists/maps whole. */
export function toFieldSet(value: unknown, shapes: Shapes): FieldSet {
  const out = emptySet();
  const walk = (v: unknown, names: string[], path: string[]): void => {
    if (isMap(v)) {
      if (path.length && shapes.atomicMap(names)) return insert(out, path);
      for (const [k, x] of Object.entries(v)) {
        if (k.startsWith('$')) continue;
        const p = [...path, `f:${k}`];
        walk(x, [...names, k], p);
        if (x === null || (isMap(x) && Object.keys(x).length === 0)) insert(out, p);
      }
    } else if (Array.isArray(v)) {
      const shape = shapes.list(names);
      if (shape.type === 'atomic') return insert(out, path);
      for (const item of v) {
        const p = [...path, itemKey(item, shape)];
        walk(item, names, p);
        insert(out, p);
      }
    } else if (path.length) {
      insert(out, path);
    }
  };
  walk(value, [], []);
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (!isMap(a) || !isMap(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => k in b && deepEqual(a[k], b[k]));
}

export interface Comparison { changed: FieldSet; removed: FieldSet }

/** What differs from `before` to `after`: added or modified fields (`changed`) and removed ones. */
export function compare(before: unknown, after: unknown, shapes: Shapes): Comparison {
  const out: Comparison = { changed: emptySet(), removed: emptySet() };
  const leaf = (l: unknown, r: unknown, path: string[]) => {
    if (l === undefined) insert(out.changed, path);
    else if (r === undefined) insert(out.removed, path);
    else if (!deepEqual(l, r)) insert(out.changed, path);
  };
  const presence = (l: unknown, r: unknown, path: string[]) => {
    if (!path.length) return;
    if (l === undefined) insert(out.changed, path);
    else if (r === undefined) insert(out.removed, path);
  };
  // names and path are stacks shared by the whole walk (pushed before a descent, popped after)
  const names: string[] = [];
  const path: string[] = [];
  const walk = (l: unknown, r: unknown): void => {
    if (l === r) return;
    const lm = isMap(l), rm = isMap(r);
    if ((lm || l === undefined) && (rm || r === undefined)) {
      const lo = (l ?? {}) as Record<string, unknown>, ro = (r ?? {}) as Record<string, unknown>;
      let empty = true;
      for (const _ in lo) { empty = false; break; }
      if (empty) for (const _ in ro) { empty = false; break; }
      if (empty || (path.length && shapes.atomicMap(names))) return leaf(l, r, path);
      const visit = (k: string) => {
        names.push(k); path.push(`f:${k}`);
        walk(lo[k], ro[k]);
        names.pop(); path.pop();
      };
      for (const k in lo) if (lo[k] !== undefined || ro[k] !== undefined) visit(k);
      for (const k in ro) if (!(k in lo) && ro[k] !== undefined) visit(k);
      return presence(l, r, path);
    }
    const la = Array.isArray(l), ra = Array.isArray(r);
    if ((la || l === undefined) && (ra || r === undefined)) {
      const lv = (l ?? []) as unknown[], rv = (r ?? []) as unknown[];
      const shape = shapes.list(names);
      if (shape.type === 'atomic' || (lv.length === 0 && rv.length === 0)) return leaf(l, r, path);
      const li = new Map(lv.map((x) => [itemKey(x, shape), x]));
      const ri = new Map(rv.map((x) => [itemKey(x, shape), x]));
      for (const k of new Set([...li.keys(), ...ri.keys()])) {
        path.push(k);
        walk(li.get(k), ri.get(k));
        path.pop();
      }
      return presence(l, r, path);
    }
    leaf(l, r, path);
  };
  walk(before, after);
  return out;
}

export function isEmpty(s: FieldSet | undefined): boolean {
  if (!s) return true;
  if (s.member) return false;
  for (const c of s.children.values()) if (!isEmpty(c)) return false;
  return true;
}

export function union(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { member: a.member || b.member, children: new Map(a.children) };
  for (const [k, c] of b.children) {
    const x = out.children.get(k);
    out.children.set(k, x ? union(x, c) : c);
  }
  return out;
}

/** Members of a that are not members of b. */
export function difference(a: FieldSet, b: FieldSet | undefined): FieldSet {
  if (!b || (!b.member && b.children.size === 0)) return a;
  let changed = a.member && b.member;
  const children = new Map<string, FieldSet>();
  for (const [k, c] of a.children) {
    const d = difference(c, b.children.get(k));
    if (d !== c) changed = true;
    if (d === c || !isEmpty(d)) children.set(k, d);
  }
  // unchanged: the same object, so that callers can tell (and reuse its encoding)
  return changed ? { member: a.member && !b.member, children } : a;
}

/** Members of both a and b. */
export function intersection(a: FieldSet, b: FieldSet | undefined): FieldSet {
  const out: FieldSet = { member: !!b && a.member && b.member, children: new Map() };
  if (!b) return out;
  for (const [k, c] of a.children) {
    const o = b.children.get(k);
    if (!o) continue;
    const d = intersection(c, o);
    if (!isEmpty(d)) out.children.set(k, d);
  }
  return out;
}

/** The member paths of a set, parents before children. */
export function paths(s: FieldSet, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  if (s.member && prefix.length) out.push(prefix);
  for (const k of sortedKeys(s.children)) out.push(...paths(s.children.get(k)!, [...prefix, k]));
  return out;
}

/** A path as structured-merge-diff prints it: `.spec.containers[name="web"].image`, `.metadata.finalizers[="x"]`. */
export function pathString(path: readonly string[]): string {
  return path.map((p) => {
    if (p.startsWith('f:')) return `.${p.slice(2)}`;
    if (p.startsWith('v:')) return `[=${p.slice(2)}]`;
    if (p.startsWith('k:')) {
      const o = JSON.parse(p.slice(2)) as Record<string, unknown>;
      return `[${Object.entries(o).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    }
    return `[${p.slice(2)}]`;
  }).join('');
}

/** The subset of s under a path, if any. */
export function sub(s: FieldSet, path: readonly string[]): FieldSet | undefined {
  let cur: FieldSet | undefined = s;
  for (const p of path) cur = cur?.children.get(p);
  return cur;
}

function sortedKeys(m: Map<string, FieldSet>): string[] {
  return [...m.keys()].sort();
}

export function toFieldsV1(s: FieldSet): FieldsV1 {
  const out: FieldsV1 = {};
  if (s.member && s.children.size) out['.'] = {};
  for (const k of sortedKeys(s.children)) {
    const c = s.children.get(k)!;
    if (!isEmpty(c)) out[k] = toFieldsV1(c);
  }
  return out;
}

export function fromFieldsV1(v: unknown): FieldSet {
  const out = emptySet();
  if (!isMap(v)) return out;
  for (const [k, x] of Object.entries(v)) {
    if (k === '.') { out.member = true; continue; }
    const c = fromFieldsV1(x);
    if (!isMap(x) || Object.keys(x).length === 0) c.member = true;
    out.children.set(k, c);
  }
  return out;
}

/**
 * Removes from `obj` (in place) what `last` holds and `keep` does not: a field goes when nothing in `keep` lies at
 * or under it, a list item when `keep` does not hold the item itself; maps and lists left empty by this go too.
 */
export function removeFields(obj: Record<string, unknown>, last: FieldSet, keep: FieldSet, shapes: Shapes): void {
  const walk = (v: unknown, l: FieldSet, k: FieldSet | undefined, names: string[]): void => {
    for (const [key, lc] of l.children) {
      const kc = k?.children.get(key);
      if (key.startsWith('f:') && isMap(v)) {
        const f = key.slice(2);
        if (!(f in v)) continue;
        if (lc.member && isEmpty(kc)) { delete v[f]; continue; }
        const x = v[f];
        const wasFull = (isMap(x) && Object.keys(x).length > 0) || (Array.isArray(x) && x.length > 0);
        walk(x, lc, kc, [...names, f]);
        const nowEmpty = (isMap(x) && Object.keys(x).length === 0) || (Array.isArray(x) && x.length === 0);
        if (wasFull && nowEmpty && !kc?.member) delete v[f];
      } else if (Array.isArray(v)) {
        const shape = shapes.list(names);
        const i = v.findIndex((item) => itemKey(item, shape) === key);
        if (i < 0) continue;
        if (lc.member && !kc?.member) { v.splice(i, 1); continue; }
        walk(v[i], lc, kc, names);
      }
    }
  };
  walk(obj, last, keep, []);
}
