// One scheduling decision as a pure function: filter every node, score the feasible ones, pick the best.
import type { KubeObject } from '../client/types.ts';
import { defaultFilters, type Filter, type FilterContext } from './filters.ts';
import { addPod, cloneNodeInfo, type NodeInfo } from './node-info.ts';
import { defaultScores, type ScorePlugin } from './scores.ts';

export interface ScheduleOptions {
  filters?: Filter[];
  scores?: ScorePlugin[];
  pvc?: FilterContext['pvc'];
  pv?: FilterContext['pv'];
  storageClass?: FilterContext['storageClass'];
  /** Breaks ties among equally scored nodes; default picks the first (by node order). */
  tieBreak?: (n: number) => number;
  /** Pods waiting for preemption victims to leave, by nominated node: those of equal or higher priority count as there. */
  nominated?: ReadonlyMap<string, readonly KubeObject[]>;
}

/** spec.priority, 0 when unset (the Priority admission plugin fills it from the class). */
export const podPriority = (p: KubeObject): number => (typeof p.spec?.priority === 'number' ? p.spec.priority : 0);

/** The first failing filter's reasons on one node, or undefined when the pod fits. */
export function runFilters(pod: KubeObject, info: NodeInfo, ctx: FilterContext, filters: readonly Filter[]): string[] | undefined {
  for (const f of filters) {
    const failed = f(pod, info, ctx);
    if (failed) return failed;
  }
  return undefined;
}

/**
 * As upstream's RunFilterPluginsWithNominatedPods: when pods of equal or higher priority are nominated to the node,
 * the pod must fit with them added and without them (inter-pod affinity may need them absent).
 */
export function runFiltersWithNominated(pod: KubeObject, info: NodeInfo, ctx: FilterContext, filters: readonly Filter[], nominated?: ReadonlyMap<string, readonly KubeObject[]>): string[] | undefined {
  const noms = nominated?.size ? nominatedBefore(pod, nominated.get(info.node.metadata.name!)) : undefined;
  if (noms?.length) {
    const withNoms = cloneNodeInfo(info);
    for (const p of noms) addPod(withNoms, p);
    const failed = runFilters(pod, withNoms, { ...ctx, nodes: ctx.nodes.map((i) => (i === info ? withNoms : i)) }, filters);
    if (failed) return failed;
  }
  return runFilters(pod, info, ctx, filters);
}

function nominatedBefore(pod: KubeObject, noms: readonly KubeObject[] | undefined): KubeObject[] | undefined {
  if (!noms?.length) return undefined;
  const prio = podPriority(pod);
  return noms.filter((p) => p.metadata.uid !== pod.metadata.uid && podPriority(p) >= prio);
}

export type ScheduleResult =
  | { node: string; scores: Record<string, number> }
  | { node?: undefined; message: string; reasons: Record<string, string[]> };

export function schedulePod(pod: KubeObject, nodes: readonly NodeInfo[], opts: ScheduleOptions = {}): ScheduleResult {
  const filters = opts.filters ?? defaultFilters;
  const ctx: FilterContext = { nodes, pvc: opts.pvc, pv: opts.pv, storageClass: opts.storageClass };
  const feasible: NodeInfo[] = [];
  const reasons: Record<string, string[]> = {};
  const nominated = opts.nominated?.size ? opts.nominated : undefined;
  for (const info of nodes) {
    let failed: string[] | undefined;
    if (nominated) failed = runFiltersWithNominated(pod, info, ctx, filters, nominated);
    else {
      for (const f of filters) {
        failed = f(pod, info, ctx);
        if (failed) break;
      }
    }
    if (failed) reasons[info.node.metadata.name!] = failed;
    else feasible.push(info);
  }
  if (feasible.length === 0) return { message: fitErrorMessage(nodes.length, reasons), reasons };
  if (feasible.length === 1) return { node: feasible[0]!.node.metadata.name!, scores: { [feasible[0]!.node.metadata.name!]: 0 } };
  const total = new Array<number>(feasible.length).fill(0);
  for (const p of opts.scores ?? defaultScores) {
    const s = feasible.map((i) => p.score(pod, i, nodes));
    p.normalize?.(s);
    for (let i = 0; i < s.length; i++) total[i]! += s[i]! * p.weight;
  }
  const best = Math.max(...total);
  const ties = feasible.filter((_, i) => total[i]! >= best - 1e-9);
  const pick = ties[opts.tieBreak ? opts.tieBreak(ties.length) % ties.length : 0]!;
  return { node: pick.node.metadata.name!, scores: Object.fromEntries(feasible.map((i, k) => [i.node.metadata.name!, total[k]!])) };
}

/** "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu." */
export function fitErrorMessage(total: number, reasons: Record<string, string[]>): string {
  if (total === 0) return 'no nodes available to schedule pods';
  const hist = new Map<string, number>();
  for (const rs of Object.values(reasons)) for (const r of rs) hist.set(r, (hist.get(r) ?? 0) + 1);
  const parts = [...hist].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${total} nodes are available: ${parts.join(', ')}.`;
}
