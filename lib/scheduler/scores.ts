// Score plugins: each gives every feasible node a raw score; normalize() maps them to 0..100; weights combine them.
import type { KubeObject } from '../client/types.ts';
import { matchesNodeSelectorTerm } from './affinity.ts';
import { DEFAULT_CPU, DEFAULT_MEM, nodeAllocatable, podRequests, type NodeInfo } from './node-info.ts';
import { toleratedBy, type Taint } from './taints.ts';

export interface ScorePlugin {
  name: string;
  weight: number;
  score(pod: KubeObject, info: NodeInfo, all: readonly NodeInfo[]): number;
  /** Maps raw scores to 0..100 in place; default: already 0..100. */
  normalize?(scores: number[]): void;
}

function fractions(pod: KubeObject, info: NodeInfo): { cpu: number; memory: number } {
  const alloc = nodeAllocatable(info.node);
  const req = podRequests(pod);
  const usedCpu = (req.cpu || DEFAULT_CPU) + info.nonZero.cpu;
  const usedMem = (req.memory || DEFAULT_MEM) + info.nonZero.memory;
  return { cpu: alloc.cpu ? usedCpu / alloc.cpu : 1, memory: alloc.memory ? usedMem / alloc.memory : 1 };
}

export const leastAllocated: ScorePlugin = {
  name: 'NodeResourcesFit', weight: 1,
  score(pod, info) {
    const f = fractions(pod, info);
    return ((Math.max(0, 1 - f.cpu) + Math.max(0, 1 - f.memory)) / 2) * 100;
  },
};

export const balancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation', weight: 1,
  score(pod, info) {
    const f = fractions(pod, info);
    const c = Math.min(1, f.cpu);
    const m = Math.min(1, f.memory);
    return (1 - Math.abs(c - m) / 2) * 100;
  },
};

export const nodeAffinityPreferred: ScorePlugin = {
  name: 'NodeAffinity', weight: 2,
  score(pod, info) {
    let s = 0;
    for (const t of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (matchesNodeSelectorTerm(t.preference ?? {}, info.node)) s += t.weight ?? 0;
    }
    return s;
  },
  normalize: maxNormalize(false),
};

export const taintTolerationScore: ScorePlugin = {
  name: 'TaintToleration', weight: 3,
  score(pod, info) {
    const tols = (pod.spec?.tolerations ?? []).filter((t: { effect?: string }) => !t.effect || t.effect === 'PreferNoSchedule');
    return ((info.node.spec?.taints ?? []) as Taint[]).filter((t) => t.effect === 'PreferNoSchedule' && !toleratedBy(tols, t)).length;
  },
  normalize: maxNormalize(true),
};

/** Spreads pods of one owner (ReplicaSet, StatefulSet, ...) or one label set across nodes. */
export const selectorSpread: ScorePlugin = {
  name: 'PodTopologySpread', weight: 2,
  score(pod, info) {
    const owner = pod.metadata.ownerReferences?.find((r: { controller?: boolean }) => r.controller)?.uid;
    const labels = Object.entries(pod.metadata.labels ?? {});
    if (!owner && labels.length === 0) return 0;
    let n = 0;
    for (const p of info.pods) {
      if (p.metadata.namespace !== pod.metadata.namespace || p.metadata.uid === pod.metadata.uid) continue;
      if (owner ? p.metadata.ownerReferences?.some((r: { uid: string }) => r.uid === owner) : labels.every(([k, v]) => p.metadata.labels?.[k] === v)) n++;
    }
    return n;
  },
  normalize: maxNormalize(true),
};

export const imageLocality: ScorePlugin = {
  name: 'ImageLocality', weight: 1,
  score(pod, info) {
    const have = nodeImages(info.node);
    const want = (pod.spec?.containers ?? []).map((c: { image?: string }) => normalizeImage(c.image ?? ''));
    if (!want.length) return 0;
    return (want.filter((w: string) => have.has(w)).length / want.length) * 100;
  },
};

const imagesCache = new WeakMap<object, Set<string>>();

/** The normalized names of the images a node reports (cached per frozen node object). */
function nodeImages(node: KubeObject): Set<string> {
  const hit = imagesCache.get(node);
  if (hit) return hit;
  const have = new Set<string>();
  for (const img of node.status?.images ?? []) for (const n of img.names ?? []) have.add(normalizeImage(n));
  if (Object.isFrozen(node)) imagesCache.set(node, have);
  return have;
}

export function normalizeImage(ref: string): string {
  let r = ref.split('@')[0]!;
  if (!/:[^/]+$/.test(r)) r += ':latest';
  const first = r.split('/')[0]!;
  if (!r.includes('/')) r = `docker.io/library/${r}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') r = `docker.io/${r}`;
  return r;
}

/** Scales to 0..100 by the max; reverse makes the smallest raw score the best. */
export function maxNormalize(reverse: boolean): (s: number[]) => void {
  return (s) => {
    const max = Math.max(0, ...s);
    for (let i = 0; i < s.length; i++) {
      const v = max === 0 ? (reverse ? 100 : 0) : (s[i]! * 100) / max;
      s[i] = reverse ? (max === 0 ? 100 : 100 - v) : v;
    }
  };
}

export const defaultScores: ScorePlugin[] = [leastAllocated, balancedAllocation, nodeAffinityPreferred, taintTolerationScore, selectorSpread, imageLocality];
