// One scheduling decision as a pure function: filter every node, score the feasible ones, pick the best.
import type { KubeObject } from '../client/types.ts';
import { defaultFilters, type Filter, type FilterContext } from './filters.ts';
import type { NodeInfo } from './node-info.ts';
import { defaultScores, type ScorePlugin } from './scores.ts';

export interface ScheduleOptions {
  filters?: Filter[];
  scores?: ScorePlugin[];
  pvc?: FilterContext['pvc'];
  pv?: FilterContext['pv'];
  storageClass?: FilterContext['storageClass'];
  /** Breaks ties among equally scored nodes; default picks the first (by node order). */
  tieBreak?: (n: number) => number;
}

export type ScheduleResult =
  | { node: string; scores: Record<string, number> }
  | { node?: undefined; message: string; reasons: Record<string, string[]> };

export function schedulePod(pod: KubeObject, nodes: readonly NodeInfo[], opts: ScheduleOptions = {}): ScheduleResult {
  const filters = opts.filters ?? defaultFilters;
  const ctx: FilterContext = { nodes, pvc: opts.pvc, pv: opts.pv, storageClass: opts.storageClass };
  const feasible: NodeInfo[] = [];
  const reasons: Record<string, string[]> = {};
  for (const info of nodes) {
    let failed: string[] | undefined;
    for (const f of filters) {
      failed = f(pod, info, ctx);
      if (failed) break;
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
