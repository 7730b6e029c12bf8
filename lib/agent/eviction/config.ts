// The kubelet's eviction settings and the `--kubelet-arg` flags that set them (pure). Thresholds follow the kubelet:
// `signal<quantity|percent`, Linux defaults memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%,
// imagefs.available<15%. Setting --eviction-hard replaces all defaults (unlisted signals have no threshold), as in the
// kubelet. Unknown kubelet args are refused: k3s hands them to the kubelet, which fails to start on unknown flags.
import { quantity } from '../kubelet/quantity.ts';

export const SIGNALS = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available'] as const;
export type Signal = (typeof SIGNALS)[number];

/** A quantity (bytes, inodes or pids) or a fraction (0..1] of the signal's capacity. */
export interface ThresholdValue { quantity?: number; percentage?: number }

export interface Threshold {
  signal: Signal;
  value: ThresholdValue;
  /** 0 for hard thresholds; soft ones must be crossed this long before they act. */
  gracePeriodMs: number;
  minReclaim?: ThresholdValue;
}

export interface EvictionConfig {
  thresholds: Threshold[];
  /** How long a pressure condition stays True after its threshold was last crossed (default 5m). */
  pressureTransitionPeriodMs: number;
  /** Upper bound of the grace period of pods evicted for a soft threshold (default 0 = the pod's own). */
  maxPodGracePeriodSeconds: number;
}

export const DEFAULT_EVICTION_HARD = 'memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%';
export const DEFAULT_PRESSURE_TRANSITION_MS = 5 * 60_000;

/** Kubelet flags accepted through --kubelet-arg (the container-log ones are read by kubelet/log-rotation.ts). */
export const KUBELET_ARGS = [
  'eviction-hard', 'eviction-soft', 'eviction-soft-grace-period', 'eviction-minimum-reclaim',
  'eviction-pressure-transition-period', 'eviction-max-pod-grace-period', 'container-log-max-size', 'container-log-max-files',
] as const;

/** Go duration ("5m", "1m30s", "300ms", "1h") in milliseconds. */
export function parseDuration(s: string): number {
  const text = s.trim();
  if (text === '0') return 0;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let rest = text;
  let total = 0;
  if (!rest) throw new Error(`invalid duration ${JSON.stringify(s)}`);
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`invalid duration ${JSON.stringify(s)} (use e.g. 30s, 5m, 1m30s)`);
    total += Number(m[1]) * unit[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

function parseValue(signal: string, v: string): ThresholdValue {
  const text = v.trim();
  if (text.endsWith('%')) {
    const p = Number(text.slice(0, -1));
    if (!Number.isFinite(p) || p < 0 || p > 100 || !/^\d+(\.\d+)?%$/.test(text)) throw new Error(`eviction threshold ${signal}: invalid percentage ${JSON.stringify(v)}`);
    return { percentage: p / 100 };
  }
  let q: number;
  try { q = quantity(text); } catch { throw new Error(`eviction threshold ${signal}: invalid quantity ${JSON.stringify(v)}`); }
  if (q < 0) throw new Error(`eviction threshold ${signal}: must be non-negative, got ${JSON.stringify(v)}`);
  return { quantity: q };
}

function checkSignal(s: string): Signal {
  if (!(SIGNALS as readonly string[]).includes(s)) throw new Error(`unknown eviction signal ${JSON.stringify(s)} (known: ${SIGNALS.join(', ')})`);
  return s as Signal;
}

const isZero = (v: ThresholdValue) => (v.quantity ?? 0) === 0 && (v.percentage ?? 0) === 0;

/** "memory.available<100Mi,nodefs.available<10%" → thresholds; "signal<0" or "<0%" disables a signal. */
export function parseThresholds(statements: string, gracePeriods: Map<Signal, number> | undefined, soft: boolean): Threshold[] {
  const out: Threshold[] = [];
  const seen = new Set<string>();
  for (const stmt of statements.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^([A-Za-z.]+)\s*(<|>|<=|>=|=)\s*(.+)$/.exec(stmt);
    if (!m) throw new Error(`invalid eviction threshold ${JSON.stringify(stmt)} (want e.g. memory.available<100Mi)`);
    const signal = checkSignal(m[1]!);
    if (m[2] !== '<') throw new Error(`eviction threshold ${JSON.stringify(stmt)}: only the < operator is supported`);
    if (seen.has(signal)) throw new Error(`eviction threshold for ${signal} given twice`);
    seen.add(signal);
    const value = parseValue(signal, m[3]!);
    if (isZero(value)) continue;
    const grace = gracePeriods?.get(signal);
    if (soft && grace === undefined) throw new Error(`soft eviction threshold ${signal} needs a grace period (--kubelet-arg=eviction-soft-grace-period=${signal}=1m30s)`);
    out.push({ signal, value, gracePeriodMs: soft ? grace! : 0 });
  }
  return out;
}

/** "memory.available=0Mi,nodefs.available=500Mi" → signal → string value. */
function parseMap(flag: string, text: string): Map<Signal, string> {
  const out = new Map<Signal, string>();
  for (const kv of text.split(',').map((x) => x.trim()).filter(Boolean)) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Error(`--kubelet-arg=${flag}: ${JSON.stringify(kv)} is not signal=value`);
    out.set(checkSignal(kv.slice(0, i).trim()), kv.slice(i + 1).trim());
  }
  return out;
}

/** ["eviction-hard=memory.available<5%", "--eviction-pressure-transition-period=30s"] → key → value (last wins). */
export function kubeletArgMap(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of args) {
    const a = raw.replace(/^--?/, '');
    const i = a.indexOf('=');
    const key = i < 0 ? a : a.slice(0, i);
    if (!(KUBELET_ARGS as readonly string[]).includes(key)) {
      throw new Error(`--kubelet-arg ${JSON.stringify(raw)}: the kubelet flag ${JSON.stringify(key)} is not supported by tsk (supported: ${KUBELET_ARGS.join(', ')})`);
    }
    if (i < 0) throw new Error(`--kubelet-arg ${JSON.stringify(raw)}: want ${key}=VALUE`);
    out.set(key, a.slice(i + 1));
  }
  return out;
}

/** The eviction configuration from --kubelet-arg values; throws with a message naming the bad argument. */
export function evictionConfig(args: readonly string[] = []): EvictionConfig {
  const m = kubeletArgMap(args);
  const graces = new Map<Signal, number>();
  for (const [s, v] of parseMap('eviction-soft-grace-period', m.get('eviction-soft-grace-period') ?? '')) graces.set(s, parseDuration(v));
  const hard = parseThresholds(m.get('eviction-hard') ?? DEFAULT_EVICTION_HARD, undefined, false);
  const soft = parseThresholds(m.get('eviction-soft') ?? '', graces, true);
  const reclaim = parseMap('eviction-minimum-reclaim', m.get('eviction-minimum-reclaim') ?? '');
  const thresholds = [...hard, ...soft].map((t) => {
    const r = reclaim.get(t.signal);
    return r === undefined ? t : { ...t, minReclaim: parseValue(t.signal, r) };
  });
  const maxGrace = m.get('eviction-max-pod-grace-period');
  if (maxGrace !== undefined && !/^-?\d+$/.test(maxGrace)) throw new Error(`--kubelet-arg=eviction-max-pod-grace-period=${maxGrace}: want whole seconds`);
  return {
    thresholds,
    pressureTransitionPeriodMs: m.has('eviction-pressure-transition-period') ? parseDuration(m.get('eviction-pressure-transition-period')!) : DEFAULT_PRESSURE_TRANSITION_MS,
    maxPodGracePeriodSeconds: maxGrace === undefined ? 0 : Math.max(0, Number(maxGrace)),
  };
}

/** The threshold as a quantity of the signal's capacity. */
export function thresholdQuantity(v: ThresholdValue, capacity: number): number {
  return v.quantity !== undefined ? v.quantity : Math.floor(capacity * (v.percentage ?? 0));
}
