// The node authorizer and NodeRestriction admission: a kubelet (system:node:NAME in system:nodes) reads only what
// the pods bound to it need, and writes only its own Node, its own Lease and the status of its own pods.
import type { KubeObject } from '../../client/types.ts';
import type { Attributes, Authorizer, AuthzResult } from './types.ts';

export interface NodeGraph {
  podsOnNode(nodeName: string): Promise<KubeObject[]>;
  /** A PersistentVolumeClaim, for the pod → claim → volume edge (absent: nodes may not read volumes). */
  claim?(namespace: string, name: string): Promise<KubeObject | undefined>;
  /** A PersistentVolume: a node may read a local-path volume provisioned on it, and learn that one is gone. */
  volume?(name: string): Promise<KubeObject | undefined>;
}

export function nodeNameOf(user: { username: string; groups: string[] }): string | undefined {
  if (!user.groups.includes('system:nodes') || !user.username.startsWith('system:node:')) return undefined;
  return user.username.slice('system:node:'.length) || undefined;
}

type Refs = { secrets: Set<string>; configmaps: Set<string>; persistentvolumeclaims: Set<string>; serviceaccounts: Set<string> };

/** Every "namespace/name" the pods reference, by kind. */
export function podReferences(pods: KubeObject[]): Refs {
  const refs: Refs = { secrets: new Set(), configmaps: new Set(), persistentvolumeclaims: new Set(), serviceaccounts: new Set() };
  for (const p of pods) {
    const ns = p.metadata.namespace ?? 'default';
    const add = (k: keyof Refs, n: unknown) => typeof n === 'string' && n && refs[k].add(`${ns}/${n}`);
    const spec = p.spec ?? {};
    add('serviceaccounts', spec.serviceAccountName || 'default');
    for (const s of spec.imagePullSecrets ?? []) add('secrets', s.name);
    for (const v of spec.volumes ?? []) {
      add('secrets', v.secret?.secretName);
      add('configmaps', v.configMap?.name);
      add('persistentvolumeclaims', v.persistentVolumeClaim?.claimName);
      for (const src of v.projected?.sources ?? []) {
        add('secrets', src.secret?.name);
        add('configmaps', src.configMap?.name);
      }
      for (const k of ['cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos', 'azureFile', 'csi']) add('secrets', v[k]?.secretRef?.name ?? v[k]?.nodePublishSecretRef?.name);
    }
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])]) {
      for (const e of c.env ?? []) {
        add('secrets', e.valueFrom?.secretKeyRef?.name);
        add('configmaps', e.valueFrom?.configMapKeyRef?.name);
      }
      for (const e of c.envFrom ?? []) {
        add('secrets', e.secretRef?.name);
        add('configmaps', e.configMapRef?.name);
      }
    }
  }
  return refs;
}

const READ = new Set(['get', 'list', 'watch']);
const allow: AuthzResult = { decision: 'allow' };
const noOpinion = (reason?: string): AuthzResult => ({ decision: 'noOpinion', reason });

export class NodeAuthorizer implements Authorizer {
  readonly #graph: NodeGraph;
  constructor(graph: NodeGraph) {
    this.#graph = graph;
  }

  async authorize(a: Attributes): Promise<AuthzResult> {
    const node = nodeNameOf(a.user);
    if (!node) return noOpinion();
    if (!a.resourceRequest) return noOpinion();
    const g = a.apiGroup ?? '';
    const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const v = a.verb;
    if (g === '') {
      switch (res) {
        case 'secrets':
        case 'configmaps':
        case 'persistentvolumeclaims':
          return READ.has(v) ? this.#related(node, res, a) : noOpinion();
        case 'persistentvolumes':
          return v === 'get' ? this.#relatedVolume(node, a) : noOpinion();
        case 'serviceaccounts/token':
          return v === 'create' ? this.#related(node, 'serviceaccounts', a) : noOpinion();
        case 'nodes':
        case 'nodes/status':
        case 'pods':
        case 'pods/status':
        case 'pods/eviction':
          return allow; // NodeRestriction narrows writes to the node's own objects
        case 'services':
        case 'endpoints':
          return READ.has(v) ? allow : noOpinion();
        case 'events':
          return ['create', 'patch', 'update'].includes(v) ? allow : noOpinion();
      }
      return noOpinion();
    }
    if (g === 'events.k8s.io' && res === 'events') return ['create', 'patch', 'update'].includes(v) ? allow : noOpinion();
    if (g === 'discovery.k8s.io' && res === 'endpointslices') return READ.has(v) ? allow : noOpinion();
    if (g === 'coordination.k8s.io' && res === 'leases') {
      if (a.namespace !== 'kube-node-lease' || !['get', 'create', 'update', 'patch', 'delete', 'watch', 'list'].includes(v)) return noOpinion();
      if (v !== 'create' && a.name !== node) return noOpinion(`can only access node lease with the same name as the requesting node`);
      return allow;
    }
    if ((g === 'authentication.k8s.io' && res === 'tokenreviews') || (g === 'authorization.k8s.io' && res === 'subjectaccessreviews')) return v === 'create' ? allow : noOpinion();
    if ((g === 'node.k8s.io' && res === 'runtimeclasses') || (g === 'storage.k8s.io' && ['csidrivers', 'csinodes', 'volumeattachments'].includes(res ?? ''))) return READ.has(v) ? allow : noOpinion();
    return noOpinion();
  }

  // Per-node references from the last listing. A hit is trusted for a few seconds; a miss always relists, so a pod
  // bound a moment ago is never refused because of the cache.
  readonly #cache = new Map<string, { at: number; refs: Refs }>();

  /** A volume bound to a claim that a pod on the node uses. */
  async #relatedVolume(node: string, a: Attributes): Promise<AuthzResult> {
    if (!a.name || !this.#graph.claim) return noOpinion();
    if (this.#graph.volume) {
      // The node's sweep of deleted local-path volumes' directories (lib/agent/kubelet/pvc-volume-gc.ts) needs these.
      const pv = await this.#graph.volume(a.name);
      if (!pv || pv.metadata.annotations?.['local.path.provisioner/selected-node'] === node) return allow;
    }
    for (const key of podReferences(await this.#graph.podsOnNode(node)).persistentvolumeclaims) {
      const [ns, name] = key.split('/') as [string, string];
      if ((await this.#graph.claim(ns, name))?.spec?.volumeName === a.name) return allow;
    }
    return noOpinion(`no relationship found between node '${node}' and this object`);
  }

  async #related(node: string, kind: keyof Refs, a: Attributes): Promise<AuthzResult> {
    if (!a.name || !a.namespace) return noOpinion(`can only ${a.verb} individual resources of this type`);
    const key = `${a.namespace}/${a.name}`;
    const hit = this.#cache.get(node);
    if (hit && Date.now() - hit.at < 5000 && hit.refs[kind].has(key)) return allow;
    const refs = podReferences(await this.#graph.podsOnNode(node));
    this.#cache.set(node, { at: Date.now(), refs });
    return refs[kind].has(key) ? allow : noOpinion(`no relationship found between node '${node}' and this object`);
  }
}

/**
 * NodeRestriction admission: returns the reason a node's write is refused, or undefined to admit.
 * obj is the new object (create/update), old the stored one (update/patch/delete/status).
 */
export function nodeRestriction(a: Attributes, obj?: KubeObject, old?: KubeObject): string | undefined {
  const node = nodeNameOf(a.user);
  if (!node || !a.resourceRequest) return undefined;
  const g = a.apiGroup ?? '';
  if (g === '' && a.resource === 'pods') {
    const target = old ?? obj;
    const bound = target?.spec?.nodeName;
    if (!a.subresource && a.verb === 'create') {
      if (!obj?.metadata.annotations?.['kubernetes.io/config.mirror']) return `pod does not have "kubernetes.io/config.mirror" annotation, node "${node}" can only create mirror pods`;
      if (obj.spec?.nodeName !== node) return `node "${node}" can only create pods with spec.nodeName set to itself`;
      return undefined;
    }
    if (!a.subresource && a.verb === 'delete') return bound === node ? undefined : `node "${node}" can only delete pods with spec.nodeName set to itself`;
    if (a.subresource === 'status' && ['update', 'patch'].includes(a.verb)) return bound === node ? undefined : `node "${node}" can only update pod status for pods with spec.nodeName set to itself`;
    if (a.subresource === 'eviction') return bound === node ? undefined : `node "${node}" can only evict pods with spec.nodeName set to itself`;
    if (!a.subresource && ['update', 'patch'].includes(a.verb)) return `node "${node}" can only update pod status`;
    return undefined;
  }
  if (g === '' && a.resource === 'nodes' && ['create', 'update', 'patch', 'delete'].includes(a.verb)) {
    const name = a.name ?? obj?.metadata.name;
    if (name !== node) return `node "${node}" is not allowed to modify node "${name}"`;
    return undefined;
  }
  if (g === 'coordination.k8s.io' && a.resource === 'leases' && ['create', 'update', 'patch', 'delete'].includes(a.verb)) {
    const name = a.name ?? obj?.metadata.name;
    if (a.namespace !== 'kube-node-lease' || name !== node) return `can only access node lease with the same name as the requesting node`;
  }
  return undefined;
}
