// Filter plugins: each says why a pod cannot run on a node (Kubernetes' reason strings), or nothing when it fits.
import type { KubeObject } from '../client/types.ts';
import { matchesSelector, type LabelSelector } from '../controller/selector.ts';
import { checkInterPodAffinity, matchesNodeAffinity, matchesNodeSelectorTerm, type NodeSelectorTerm } from './affinity.ts';
import { nodeAllocatable, podHostPorts, podRequests, type NodeInfo } from './node-info.ts';
import { effectiveTaints, formatTaint, toleratedBy } from './taints.ts';

export interface FilterContext {
  nodes: readonly NodeInfo[];
  /** PVC lookup for the volume binding check; absent skips it. */
  pvc?: (namespace: string, name: string) => KubeObject | undefined;
  pv?: (name: string) => KubeObject | undefined;
  storageClass?: (name: string) => KubeObject | undefined;
}

export type Filter = (pod: KubeObject, info: NodeInfo, ctx: FilterContext) => string[] | undefined;

export const nodeName: Filter = (pod, info) =>
  pod.spec?.nodeName && pod.spec.nodeName !== info.node.metadata.name ? ["node(s) didn't match the requested node name"] : undefined;

export const nodeUnschedulable: Filter = (pod, info) => {
  if (!info.node.spec?.unschedulable) return undefined;
  return toleratedBy(pod.spec?.tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }) ? undefined : ['node(s) were unschedulable'];
};

export const taintToleration: Filter = (pod, info) => {
  const bad = effectiveTaints(info.node).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !toleratedBy(pod.spec?.tolerations, t));
  return bad ? [`node(s) had untolerated taint ${formatTaint(bad)}`] : undefined;
};

export const nodeAffinity: Filter = (pod, info) =>
  matchesNodeAffinity(pod, info.node) ? undefined : ["node(s) didn't match Pod's node affinity/selector"];

export const resourcesFit: Filter = (pod, info) => {
  const alloc = nodeAllocatable(info.node);
  const out: string[] = [];
  if (alloc.pods !== undefined && (info.requested.pods ?? 0) + 1 > alloc.pods) out.push('Too many pods');
  const req = podRequests(pod);
  for (const [k, v] of Object.entries(req)) {
    if (v === 0) continue;
    const have = alloc[k] ?? 0;
    // Extended resources must be advertised; cpu/memory/ephemeral-storage of 0 allocatable also fail.
    if ((info.requested[k] ?? 0) + v > have) out.push(`Insufficient ${k}`);
  }
  return out.length ? out : undefined;
};

export const nodePorts: Filter = (pod, info) => {
  for (const want of podHostPorts(pod)) {
    for (const used of info.usedPorts) {
      if (used.port !== want.port || used.protocol !== want.protocol) continue;
      if (used.hostIP === want.hostIP || used.hostIP === '0.0.0.0' || want.hostIP === '0.0.0.0') {
        return ["node(s) didn't have free ports for the requested pod ports"];
      }
    }
  }
  return undefined;
};

export const interPodAffinity: Filter = (pod, info, ctx) => {
  const r = checkInterPodAffinity(pod, info, ctx.nodes);
  if (r === 'affinity') return ["node(s) didn't match pod affinity rules"];
  if (r === 'antiAffinity') return ["node(s) didn't match pod anti-affinity rules"];
  if (r === 'existingAntiAffinity') return ["node(s) didn't satisfy existing pods anti-affinity rules"];
  return undefined;
};

export const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

/** Claims of the pod that are unbound and wait for the first consumer (the scheduler picks their node). */
export function delayedClaims(pod: KubeObject, ctx: Pick<FilterContext, 'pvc' | 'storageClass'>): KubeObject[] {
  const out: KubeObject[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    const pvc = v.persistentVolumeClaim?.claimName && ctx.pvc?.(pod.metadata.namespace ?? '', v.persistentVolumeClaim.claimName);
    if (!pvc || pvc.spec?.volumeName) continue;
    const sc = pvc.spec?.storageClassName ? ctx.storageClass?.(pvc.spec.storageClassName) : undefined;
    if (sc?.volumeBindingMode === 'WaitForFirstConsumer') out.push(pvc);
  }
  return out;
}

/**
 * Volumes: claims must exist; bound claims' PersistentVolumes must admit the node (spec.nodeAffinity); unbound
 * claims must wait for the first consumer (then any node, or the one already selected) — immediate ones block.
 */
export const volumeBinding: Filter = (pod, info, ctx) => {
  if (!ctx.pvc) return undefined;
  for (const v of pod.spec?.volumes ?? []) {
    const claim = v.persistentVolumeClaim?.claimName;
    if (!claim) continue;
    const pvc = ctx.pvc(pod.metadata.namespace ?? '', claim);
    if (!pvc) return [`persistentvolumeclaim "${claim}" not found`];
    if (pvc.metadata.deletionTimestamp) return [`persistentvolumeclaim "${claim}" is being deleted`];
    const volumeName = pvc.spec?.volumeName;
    if (volumeName) {
      const pv = ctx.pv?.(volumeName);
      const terms = pv?.spec?.nodeAffinity?.required?.nodeSelectorTerms;
      if (terms?.length && !terms.some((term: NodeSelectorTerm) => matchesNodeSelectorTerm(term, info.node))) return ['node(s) had volume node affinity conflict'];
      continue;
    }
    const selected = pvc.metadata.annotations?.[SELECTED_NODE];
    if (selected && selected !== info.node.metadata.name) return ['node(s) had volume node affinity conflict'];
    const sc = pvc.spec?.storageClassName ? ctx.storageClass?.(pvc.spec.storageClassName) : undefined;
    if (ctx.storageClass && sc?.volumeBindingMode !== 'WaitForFirstConsumer' && !selected) return ['pod has unbound immediate PersistentVolumeClaims'];
  }
  return undefined;
};

/** Topology spread constraints with whenUnsatisfiable: DoNotSchedule. */
export const podTopologySpread: Filter = (pod, info, ctx) => {
  for (const c of pod.spec?.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable !== 'DoNotSchedule') continue;
    const v = info.node.metadata.labels?.[c.topologyKey];
    if (v === undefined) return ["node(s) didn't match pod topology spread constraints (missing required label)"];
    const counts = spreadCounts(pod, c, ctx.nodes);
    const min = Math.min(...counts.values());
    if ((counts.get(v) ?? 0) + 1 - (counts.size ? min : 0) > (c.maxSkew ?? 1)) return ["node(s) didn't match pod topology spread constraints"];
  }
  return undefined;
};

export function spreadCounts(pod: KubeObject, c: { topologyKey: string; labelSelector?: unknown }, nodes: readonly NodeInfo[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const i of nodes) {
    const v = i.node.metadata.labels?.[c.topologyKey];
    if (v === undefined || !matchesNodeAffinity(pod, i.node)) continue;
    let n = counts.get(v) ?? 0;
    for (const p of i.pods) {
      if (p.metadata.namespace !== pod.metadata.namespace) continue;
      if (matchesSelector(c.labelSelector as LabelSelector | undefined, p.metadata.labels)) n++;
    }
    counts.set(v, n);
  }
  return counts;
}

export const defaultFilters: Filter[] = [nodeName, nodeUnschedulable, taintToleration, nodeAffinity, nodePorts, resourcesFit, volumeBinding, podTopologySpread, interPodAffinity];
