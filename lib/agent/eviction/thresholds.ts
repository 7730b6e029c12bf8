// Signal observations → thresholds met → node conditions and the threshold to reclaim, one step of the kubelet's
// eviction manager (pure; time comes in as `now`). As upstream: a threshold once met stays met until its signal is
// back above threshold + minimum reclaim; a soft threshold acts only after its grace period; a pressure condition
// stays True until its signal has been fine for the pressure transition period.
import { thresholdQuantity, type Signal, type Threshold } from './config.ts';

export interface Observation { available: number; capacity: number }
export type Observations = Partial<Record<Signal, Observation>>;

export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';
export type Resource = 'memory' | 'ephemeral-storage' | 'inodes' | 'pids';

export const SIGNAL_CONDITION: Record<Signal, PressureCondition> = {
  'memory.available': 'MemoryPressure',
  'nodefs.available': 'DiskPressure', 'nodefs.inodesFree': 'DiskPressure',
  'imagefs.available': 'DiskPressure', 'imagefs.inodesFree': 'DiskPressure',
  'pid.available': 'PIDPressure',
};

export const SIGNAL_RESOURCE: Record<Signal, Resource> = {
  'memory.available': 'memory',
  'nodefs.available': 'ephemeral-storage', 'nodefs.inodesFree': 'inodes',
  'imagefs.available': 'ephemeral-storage', 'imagefs.inodesFree': 'inodes',
  'pid.available': 'pids',
};

const key = (t: Threshold) => `${t.signal}|${t.gracePeriodMs}`;

/** Thresholds whose signal is below them (with enforceMinReclaim: below threshold + minimum reclaim). */
export function thresholdsMet(thresholds: readonly Threshold[], obs: Observations, enforceMinReclaim: boolean): Threshold[] {
  return thresholds.filter((t) => {
    const o = obs[t.signal];
    if (!o) return false;
    let q = thresholdQuantity(t.value, o.capacity);
    if (enforceMinReclaim && t.minReclaim) q += thresholdQuantity(t.minReclaim, o.capacity);
    return q > o.available;
  });
}

export interface EvictionState {
  /** Thresholds acting at the last step (after grace periods). */
  met: Threshold[];
  /** threshold key → when it was first seen crossed (while it stays crossed). */
  firstObservedAt: Map<string, number>;
  /** condition → when its threshold was last seen crossed. */
  conditionLastObservedAt: Map<PressureCondition, number>;
}

export const initialState = (): EvictionState => ({ met: [], firstObservedAt: new Map(), conditionLastObservedAt: new Map() });

export interface StepResult {
  state: EvictionState;
  /** Conditions to report True. */
  conditions: Set<PressureCondition>;
  /** Thresholds to act on now (grace periods satisfied), memory first. */
  thresholds: Threshold[];
}

/** One synchronize step of the eviction manager. */
export function step(prev: EvictionState, all: readonly Threshold[], obs: Observations, now: number, transitionMs: number): StepResult {
  let crossed = thresholdsMet(all, obs, false);
  if (prev.met.length) {
    const unresolved = thresholdsMet(prev.met, obs, true);
    for (const t of unresolved) if (!crossed.some((c) => key(c) === key(t))) crossed = [...crossed, t];
  }
  const firstObservedAt = new Map<string, number>();
  for (const t of crossed) firstObservedAt.set(key(t), prev.firstObservedAt.get(key(t)) ?? now);
  const conditionLastObservedAt = new Map(prev.conditionLastObservedAt);
  for (const t of crossed) conditionLastObservedAt.set(SIGNAL_CONDITION[t.signal], now);
  const conditions = new Set<PressureCondition>();
  for (const [c, at] of conditionLastObservedAt) {
    if (now - at < transitionMs) conditions.add(c);
    else conditionLastObservedAt.delete(c);
  }
  const acting = crossed.filter((t) => now - firstObservedAt.get(key(t))! >= t.gracePeriodMs);
  return { state: { met: acting, firstObservedAt, conditionLastObservedAt }, conditions, thresholds: byEvictionPriority(acting) };
}

/** Memory thresholds first (as upstream's byEvictionPriority), then the others in their order. */
export function byEvictionPriority(ts: readonly Threshold[]): Threshold[] {
  const rank = (t: Threshold) => (SIGNAL_RESOURCE[t.signal] === 'memory' ? 0 : 1);
  return ts.map((t, i) => ({ t, i })).sort((a, b) => rank(a.t) - rank(b.t) || a.i - b.i).map((x) => x.t);
}
