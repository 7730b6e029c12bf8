// Preemption (upstream's DefaultPreemption PostFilter) as pure functions: when a pod fits nowhere, find the nodes
// where removing lower-priority pods would let it fit, choose the fewest and least important victims there
// (respecting PodDisruptionBudgets where possible), and pick one node by Kubernetes' criteria. The scheduler applies
// the plan: nominate the node on the preemptor, mark and delete the victims, then schedule when room appears.
import type { KubeObject } from '../client/types.ts';
import { matchesSelector, isEmptySelector, type LabelSelector } from '../controller/selector.ts';
import { defaultFilters, type Filter, type FilterContext } from './filters.ts';
import { addPod, cloneNodeInfo, removePod, type NodeInfo } from './node-info.ts';
import { fitErrorMessage, podPriority, runFiltersWithNominated } from './schedule.ts';

export const NO_VICTIMS = 'No preemption victims found for incoming pod';
export const NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const PREEMPTION_BY_SCHEDULER = 'PreemptionByScheduler';

/**
 * Filter reasons that removing pods from the node can resolve (upstream's Unschedulable, as opposed to
 * UnschedulableAndUnresolvable: node name, cordon, taints, node affinity, volumes, missing topology labels).
 */
export function resolvable(reasons: readonly string[]): boolean {
  return reasons.every((r) => r === 'Too many pods' || r.startsWith('Insufficient ') || r === "node(s) didn't have free ports for the requested pod ports"
    || r === "node(s) didn't match pod anti-affinity rules" || r === "node(s) didn't satisfy existing pods anti-affinity rules"
    || r === "node(s) didn't match pod topology spread constraints");
}

const startTime = (p: KubeObject): number => {
  const t = p.status?.startTime ? Date.parse(p.status.startTime) : NaN;
  return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY; // not started yet: as if it started now (the latest)
};

/** Higher priority first; at equal priority the pod running longer is the more important (upstream MoreImportantPod). */
export function moreImportantPod(a: KubeObject, b: KubeObject): boolean {
  const pa = podPriority(a), pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  return startTime(a) < startTime(b);
}

const byImportance = (a: KubeObject, b: KubeObject) => (moreImportantPod(a, b) ? -1 : moreImportantPod(b, a) ? 1 : 0);

/**
 * Splits pods (kept in order) into those whose eviction would take a matching budget below zero allowed
 * disruptions and the others; each matching pod uses one of its budgets' allowed disruptions.
 */
export function filterPodsWithPdbViolation(pods: readonly KubeObject[], pdbs: readonly KubeObject[]): { violating: KubeObject[]; nonViolating: KubeObject[] } {
  const allowed = pdbs.map((b) => Number(b.status?.disruptionsAllowed ?? 0));
  const violating: KubeObject[] = [];
  const nonViolating: KubeObject[] = [];
  for (const pod of pods) {
    let violated = false;
    const labels = pod.metadata.labels;
    if (labels && Object.keys(labels).length) {
      pdbs.forEach((b, i) => {
        const sel = b.spec?.selector as LabelSelector | undefined;
        if (b.metadata.namespace !== pod.metadata.namespace || !sel || isEmptySelector(sel) || !matchesSelector(sel, labels)) return;
        if (b.status?.disruptedPods && pod.metadata.name! in b.status.disruptedPods) return;
        if (--allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pod);
  }
  return { violating, nonViolating };
}

export interface PreemptionContext {
  nodes: readonly NodeInfo[];
  filters?: readonly Filter[];
  filterContext?: Omit<FilterContext, 'nodes'>;
  pdbs?: readonly KubeObject[];
  nominated?: ReadonlyMap<string, readonly KubeObject[]>;
}

export type VictimSelection = { victims: KubeObject[]; pdbViolations: number } | { reasons: string[] };

/**
 * The fewest pods to remove from one node for `pod` to fit: take every lower-priority pod off, check the pod fits,
 * then put them back one by one (budget-violating first, each group most important first) while it still fits.
 * Victims come back ordered most important first.
 */
export function selectVictimsOnNode(pod: KubeObject, info: NodeInfo, ctx: PreemptionContext): VictimSelection {
  const prio = podPriority(pod);
  const potential = info.pods.filter((p) => podPriority(p) < prio);
  if (!potential.length) return { reasons: [NO_VICTIMS] };
  const copy = cloneNodeInfo(info);
  const fctx: FilterContext = { ...ctx.filterContext, nodes: ctx.nodes.map((i) => (i === info ? copy : i)) };
  const filters = ctx.filters ?? defaultFilters;
  const fits = () => !runFiltersWithNominated(pod, copy, fctx, filters, ctx.nominated);
  for (const p of potential) removePod(copy, p);
  const failed = runFiltersWithNominated(pod, copy, fctx, filters, ctx.nominated);
  if (failed) return { reasons: failed };
  potential.sort(byImportance);
  const { violating, nonViolating } = filterPodsWithPdbViolation(potential, ctx.pdbs ?? []);
  const victims: KubeObject[] = [];
  let pdbViolations = 0;
  const reprieve = (p: KubeObject): boolean => {
    addPod(copy, p);
    if (fits()) return true;
    removePod(copy, p);
    victims.push(p);
    return false;
  };
  for (const p of violating) if (!reprieve(p)) pdbViolations++;
  for (const p of nonViolating) reprieve(p);
  if (violating.length && nonViolating.length) victims.sort(byImportance);
  return { victims, pdbViolations };
}

export interface Candidate {
  node: string;
  /** Most important first. */
  victims: KubeObject[];
  pdbViolations: number;
}

/**
 * Kubernetes' choice among candidate nodes: fewest budget violations, then the lowest highest-victim priority, the
 * smallest sum of (shifted) priorities, the fewest victims, the latest start among the highest-priority victims,
 * then the first.
 */
export function pickOneNodeForPreemption(candidates: readonly Candidate[]): Candidate | undefined {
  if (candidates.length <= 1) return candidates[0];
  const earliestOfHighest = (c: Candidate) => {
    const top = podPriority(c.victims[0]!);
    let t = Number.POSITIVE_INFINITY;
    for (const v of c.victims) if (podPriority(v) === top) t = Math.min(t, startTime(v));
    return t;
  };
  const scores: ((c: Candidate) => number)[] = [
    (c) => -c.pdbViolations,
    (c) => -podPriority(c.victims[0]!),
    (c) => -c.victims.reduce((s, v) => s + podPriority(v) + 2 ** 31, 0),
    (c) => -c.victims.length,
    earliestOfHighest,
  ];
  let left = [...candidates];
  for (const f of scores) {
    const s = left.map(f);
    const best = Math.max(...s);
    left = left.filter((_, i) => s[i] === best);
    if (left.length === 1) break;
  }
  return left[0];
}

/** Upstream's DisruptionTarget reason on a pod the scheduler is evicting. */
export function terminatingByPreemption(p: KubeObject): boolean {
  if (!p.metadata.deletionTimestamp) return false;
  const c = (p.status?.conditions ?? []).find((x: { type: string }) => x.type === 'DisruptionTarget');
  return c?.status === 'True' && c.reason === PREEMPTION_BY_SCHEDULER;
}

/** Why the pod may not preempt (upstream PodEligibleToPreemptOthers), or undefined when it may. */
export function notEligibleToPreempt(pod: KubeObject, nodes: readonly NodeInfo[], reasons: Readonly<Record<string, string[]>>): string | undefined {
  if (pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
  const nom = pod.status?.nominatedNodeName as string | undefined;
  if (!nom) return undefined;
  const r = reasons[nom];
  if (r && !resolvable(r)) return undefined;
  const info = nodes.find((i) => i.node.metadata.name === nom);
  const prio = podPriority(pod);
  if (info?.pods.some((p) => podPriority(p) < prio && terminatingByPreemption(p))) return 'not eligible due to a terminating pod on the nominated node.';
  return undefined;
}

/** How many candidate nodes to dry-run at most (upstream: 10% of nodes, at least 100). */
export const candidatesToFind = (n: number): number => Math.min(n, Math.max(100, Math.floor(n / 10)));

export type PreemptionPlan = { candidate: Candidate } | { message: string };

/**
 * The whole PostFilter: eligibility, dry runs on the nodes whose failures are resolvable (starting at `offset`),
 * and the chosen candidate — or the "preemption: …" message appended to the FailedScheduling event.
 */
export function planPreemption(pod: KubeObject, reasons: Readonly<Record<string, string[]>>, ctx: PreemptionContext & { offset?: number }): PreemptionPlan {
  const why = notEligibleToPreempt(pod, ctx.nodes, reasons);
  if (why) return { message: `preemption: ${why}` };
  const potential = ctx.nodes.filter((i) => { const r = reasons[i.node.metadata.name!]; return r !== undefined && resolvable(r); });
  const statuses: Record<string, string[]> = {};
  const isPotential = new Set(potential);
  for (const i of ctx.nodes) if (!isPotential.has(i)) statuses[i.node.metadata.name!] = [NOT_HELPFUL];
  const want = candidatesToFind(potential.length);
  const nonViolating: Candidate[] = [];
  const violating: Candidate[] = [];
  for (let k = 0; k < potential.length; k++) {
    const info = potential[((ctx.offset ?? 0) + k) % potential.length]!;
    const name = info.node.metadata.name!;
    const r = selectVictimsOnNode(pod, info, ctx);
    if ('reasons' in r) { statuses[name] = r.reasons; continue; }
    if (!r.victims.length) { statuses[name] = [NO_VICTIMS]; continue; }
    (r.pdbViolations ? violating : nonViolating).push({ node: name, ...r });
    if (nonViolating.length && nonViolating.length + violating.length >= want) break;
  }
  const candidate = pickOneNodeForPreemption([...nonViolating, ...violating]);
  if (!candidate) return { message: `preemption: ${fitErrorMessage(ctx.nodes.length, statuses)}` };
  return { candidate };
}
