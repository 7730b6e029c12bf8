// Node selectors, node affinity and inter-pod (anti-)affinity terms.
import type { KubeObject } from '../client/types.ts';
import { matchesRequirement, matchesSelector, type LabelSelectorRequirement, type LabelSelector } from '../controller/selector.ts';
import type { NodeInfo } from './node-info.ts';

export interface NodeSelectorTerm { matchExpressions?: LabelSelectorRequirement[]; matchFields?: LabelSelectorRequirement[] }

export function matchesNodeSelectorTerm(term: NodeSelectorTerm, node: KubeObject): boolean {
  if (!term.matchExpressions?.length && !term.matchFields?.length) return false;
  const labels = node.metadata.labels ?? {};
  if (!(term.matchExpressions ?? []).every((r) => matchesRequirement(r, labels))) return false;
  const fields = { 'metadata.name': node.metadata.name ?? '' };
  return (term.matchFields ?? []).every((r) => matchesRequirement(r, fields));
}

/** pod.spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution node affinity. */
export function matchesNodeAffinity(pod: KubeObject, node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!req) return true;
  const terms: NodeSelectorTerm[] = req.nodeSelectorTerms ?? [];
  return terms.some((t) => matchesNodeSelectorTerm(t, node));
}

export interface PodAffinityTerm {
  labelSelector?: LabelSelector;
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
  topologyKey: string;
}

/** Whether `other` is selected by term, which belongs to a pod in namespace ns. */
export function termMatchesPod(term: PodAffinityTerm, ns: string, other: KubeObject, nsLabels?: (ns: string) => Record<string, string> | undefined): boolean {
  const otherNs = other.metadata.namespace ?? '';
  let nsOk: boolean;
  if (term.namespaces?.length) nsOk = term.namespaces.includes(otherNs);
  else if (term.namespaceSelector) nsOk = matchesSelector(term.namespaceSelector, nsLabels?.(otherNs) ?? {}) || false;
  else nsOk = otherNs === ns;
  if (term.namespaces?.length && term.namespaceSelector && !nsOk) nsOk = matchesSelector(term.namespaceSelector, nsLabels?.(otherNs) ?? {});
  return nsOk && matchesSelector(term.labelSelector, other.metadata.labels);
}

const topo = (info: NodeInfo, key: string): string | undefined => info.node.metadata.labels?.[key];

export type AffinityFailure = 'affinity' | 'antiAffinity' | 'existingAntiAffinity';

/** Required inter-pod affinity/anti-affinity of `pod` on `cand`, and existing pods' required anti-affinity. */
export function checkInterPodAffinity(pod: KubeObject, cand: NodeInfo, all: readonly NodeInfo[]): AffinityFailure | undefined {
  const ns = pod.metadata.namespace ?? '';
  // Existing pods whose anti-affinity rejects this pod in cand's topology domain.
  for (const info of all) {
    for (const other of info.antiAffinityPods) {
      for (const term of other.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
        const v = topo(info, term.topologyKey);
        if (v !== undefined && topo(cand, term.topologyKey) === v && termMatchesPod(term, other.metadata.namespace ?? '', pod)) return 'existingAntiAffinity';
      }
    }
  }
  const aff: PodAffinityTerm[] = pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  for (const term of aff) {
    const v = topo(cand, term.topologyKey);
    const anyMatch = all.some((i) => i.pods.some((p) => termMatchesPod(term, ns, p)));
    // The first pod of a group that selects itself may go anywhere its topology key exists (k8s rule).
    if (!anyMatch && termMatchesPod(term, ns, pod)) { if (v === undefined) return 'affinity'; continue; }
    if (v === undefined) return 'affinity';
    if (!all.some((i) => topo(i, term.topologyKey) === v && i.pods.some((p) => termMatchesPod(term, ns, p)))) return 'affinity';
  }
  const anti: PodAffinityTerm[] = pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  for (const term of anti) {
    const v = topo(cand, term.topologyKey);
    if (v === undefined) continue;
    if (all.some((i) => topo(i, term.topologyKey) === v && i.pods.some((p) => p.metadata.uid !== pod.metadata.uid && termMatchesPod(term, ns, p)))) return 'antiAffinity';
  }
  return undefined;
}
