// The HorizontalPodAutoscaler's pure arithmetic: replicas wanted for one resource metric (Utilization or
// AverageValue, with Kubernetes' handling of missing and unready pods and the 0.1 tolerance), and the behavior
// normalisation (stabilization windows, scale-up/scale-down rate policies, min/max clamping).
import type { KubeObject } from '../client/types.ts';
import { toUnits } from '../scheduler/quantity.ts';
import { isPodReady } from './controller-revision.ts';

export const TOLERANCE = 0.1;

export interface PodMetrics {
  metadata: { name: string; namespace?: string };
  timestamp?: string;
  window?: string;
  containers: { name: string; usage: Record<string, string> }[];
}

export interface MetricTarget {
  type: 'Utilization' | 'AverageValue';
  averageUtilization?: number;
  averageValue?: string;
}

export interface ResourceReplicas {
  replicas: number;
  /** Average utilization in percent of requests (Utilization targets). */
  utilization?: number;
  /** Average usage per pod in the resource's units (millicores for cpu, bytes otherwise). */
  averageValue: number;
}

/** Replicas wanted for one resource metric, as Kubernetes' ReplicaCalculator computes them. */
export function resourceReplicas(opts: { currentReplicas: number; resource: string; target: MetricTarget; pods: KubeObject[]; metrics: PodMetrics[]; container?: string }): ResourceReplicas {
  const { currentReplicas, resource, target, container } = opts;
  const usage = new Map<string, number>();
  for (const m of opts.metrics) {
    const cs = m.containers.filter((c) => !container || c.name === container);
    if (container && !cs.length) continue;
    usage.set(m.metadata.name, cs.reduce((s, c) => s + toUnits(resource, c.usage?.[resource] ?? '0'), 0));
  }
  if (!usage.size) throw new Error(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
  const requests = new Map<string, number>();
  const ready: string[] = [], unready: string[] = [], missing: string[] = [];
  for (const p of opts.pods) {
    if (p.metadata.deletionTimestamp || p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') continue;
    const name = p.metadata.name!;
    if (target.type === 'Utilization') {
      let req = 0;
      for (const c of (p.spec?.containers ?? []) as { name: string; resources?: { requests?: Record<string, string> } }[]) {
        if (container && c.name !== container) continue;
        const r = c.resources?.requests?.[resource];
        if (r === undefined) throw new Error(`missing request for ${resource} in container of pod ${name}`);
        req += toUnits(resource, r);
      }
      requests.set(name, req);
    }
    if (!usage.has(name)) missing.push(name);
    else if (resource === 'cpu' && (!isPodReady(p) || p.status?.phase === 'Pending')) unready.push(name);
    else ready.push(name);
  }
  const counted = new Set([...ready]);
  const ratioOf = (names: Iterable<string>, extra: Map<string, number> = new Map()): { ratio: number; avg: number; util?: number } => {
    let total = 0, req = 0, n = 0;
    for (const name of names) {
      total += extra.get(name) ?? usage.get(name) ?? 0;
      req += requests.get(name) ?? 0;
      n++;
    }
    if (target.type === 'Utilization') {
      if (req === 0) throw new Error(`no requests for ${resource}`);
      const util = (total * 100) / req;
      return { ratio: util / (target.averageUtilization ?? 80), avg: n ? total / n : 0, util };
    }
    const want = toUnits(resource, target.averageValue ?? '0');
    return { ratio: n && want ? total / n / want : 0, avg: n ? total / n : 0 };
  };
  if (!ready.length && !missing.length && !unready.length) throw new Error('no pods to scale on');
  const base = ratioOf(counted);
  const out = (replicas: number): ResourceReplicas => ({ replicas, utilization: base.util === undefined ? undefined : Math.round(base.util), averageValue: Math.round(base.avg) });
  if (!missing.length && !unready.length) {
    if (Math.abs(base.ratio - 1) <= TOLERANCE) return out(currentReplicas);
    return out(Math.ceil(base.ratio * ready.length));
  }
  if (!ready.length) return out(currentReplicas);
  // Missing pods: assume full request/target when scaling down, nothing when scaling up; unready pods only count (as 0) on scale up.
  const assumed = new Map<string, number>();
  const scaleUp = base.ratio > 1;
  const full = (name: string) => (target.type === 'Utilization' ? ((requests.get(name) ?? 0) * (target.averageUtilization ?? 80)) / 100 : toUnits(resource, target.averageValue ?? '0'));
  for (const name of missing) assumed.set(name, scaleUp ? 0 : full(name));
  const names = [...ready, ...missing];
  if (scaleUp) for (const name of unready) { assumed.set(name, 0); names.push(name); }
  const adjusted = ratioOf(names, assumed);
  if (Math.abs(adjusted.ratio - 1) <= TOLERANCE || (scaleUp && adjusted.ratio < 1) || (!scaleUp && adjusted.ratio > 1)) return out(currentReplicas);
  const replicas = Math.ceil(adjusted.ratio * names.length);
  if ((scaleUp && replicas < currentReplicas) || (!scaleUp && replicas > currentReplicas)) return out(currentReplicas);
  return out(replicas);
}

// ---- behavior ----
export interface HpaPolicy { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }
export interface HpaRules { stabilizationWindowSeconds?: number; selectPolicy?: 'Max' | 'Min' | 'Disabled'; policies?: HpaPolicy[] }
export interface Behavior { scaleUp?: HpaRules; scaleDown?: HpaRules }

export const DEFAULT_SCALE_UP: Required<HpaRules> = {
  stabilizationWindowSeconds: 0, selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }],
};
export const DEFAULT_SCALE_DOWN: Required<HpaRules> = {
  stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/** Per-autoscaler memory between syncs: recommendations for stabilization and past scale events for rate policies. */
export interface HpaHistory {
  recommendations: { replicas: number; at: number }[];
  scaleUpEvents: { change: number; at: number }[];
  scaleDownEvents: { change: number; at: number }[];
}
export const newHistory = (): HpaHistory => ({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });

export interface Normalized { replicas: number; limited?: 'TooFewReplicas' | 'TooManyReplicas' | 'ScaleUpLimit' | 'ScaleDownLimit' }

function rules(b: Behavior | undefined, up: boolean): Required<HpaRules> {
  const d = up ? DEFAULT_SCALE_UP : DEFAULT_SCALE_DOWN;
  const r = up ? b?.scaleUp : b?.scaleDown;
  return { stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds, selectPolicy: r?.selectPolicy ?? d.selectPolicy, policies: r?.policies ?? d.policies };
}

/** Stabilizes `desired` over the windows, applies the rate policies and clamps to [min, max]. Mutates history. */
export function normalizeDesired(o: { current: number; desired: number; min: number; max: number; behavior?: Behavior; history: HpaHistory; now: number }): Normalized {
  const { current, desired, min, max, history: h, now } = o;
  const up = rules(o.behavior, true), down = rules(o.behavior, false);
  const maxWindow = Math.max(up.stabilizationWindowSeconds, down.stabilizationWindowSeconds) * 1000;
  h.recommendations = h.recommendations.filter((r) => r.at > now - maxWindow);
  let upRec = desired, downRec = desired;
  for (const r of h.recommendations) {
    if (r.at > now - up.stabilizationWindowSeconds * 1000) upRec = Math.min(upRec, r.replicas);
    if (r.at > now - down.stabilizationWindowSeconds * 1000) downRec = Math.max(downRec, r.replicas);
  }
  h.recommendations.push({ replicas: desired, at: now });
  let stabilized = current;
  if (stabilized < upRec) stabilized = upRec;
  if (stabilized > downRec) stabilized = downRec;

  let result = stabilized;
  let limited: Normalized['limited'];
  if (stabilized > current) {
    const limit = rateLimit(current, h.scaleUpEvents, up, now, true);
    if (stabilized > limit) { result = limit; limited = 'ScaleUpLimit'; }
  } else if (stabilized < current) {
    const limit = rateLimit(current, h.scaleDownEvents, down, now, false);
    if (stabilized < limit) { result = limit; limited = 'ScaleDownLimit'; }
  }
  if (result > max) return { replicas: max, limited: 'TooManyReplicas' };
  if (result < min) return { replicas: min, limited: 'TooFewReplicas' };
  return { replicas: result, limited };
}

function rateLimit(current: number, events: { change: number; at: number }[], r: Required<HpaRules>, now: number, up: boolean): number {
  if (r.selectPolicy === 'Disabled') return current;
  const limits = r.policies.map((p) => {
    const changed = events.filter((e) => e.at > now - p.periodSeconds * 1000).reduce((s, e) => s + e.change, 0);
    const start = up ? current - changed : current + changed;
    if (p.type === 'Pods') return up ? start + p.value : start - p.value;
    return up ? Math.ceil(start * (1 + p.value / 100)) : Math.floor(start * (1 - p.value / 100));
  });
  if (!limits.length) return current;
  const pickMax = (r.selectPolicy === 'Max') === up;
  return Math.max(up ? current : 0, pickMax ? Math.max(...limits) : Math.min(...limits));
}

/** Records a scale change for the rate policies, dropping events older than the longest period. */
export function recordScale(h: HpaHistory, from: number, to: number, now: number, behavior?: Behavior): void {
  const longest = Math.max(...[...rules(behavior, true).policies, ...rules(behavior, false).policies].map((p) => p.periodSeconds), 0) * 1000;
  h.scaleUpEvents = h.scaleUpEvents.filter((e) => e.at > now - longest);
  h.scaleDownEvents = h.scaleDownEvents.filter((e) => e.at > now - longest);
  if (to > from) h.scaleUpEvents.push({ change: to - from, at: now });
  if (to < from) h.scaleDownEvents.push({ change: from - to, at: now });
}
