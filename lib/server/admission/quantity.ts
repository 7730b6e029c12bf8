// Resource quantities for admission: parse (lib/scheduler/quantity.ts) and print back in Kubernetes' canonical
// style ("500m", "2", "128Mi", "1G"), as the LimitRanger and ResourceQuota messages show them.
import { parseQuantity } from '../../scheduler/quantity.ts';

export { parseQuantity };

/** Exact-ish comparison value: milli-units as an integer (avoids float noise when summing "100m" values). */
export function milli(q: string | number | undefined): number {
  const v = parseQuantity(q);
  return Number.isFinite(v) ? Math.round(v * 1000) : 0;
}

const BIN: [string, number][] = [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];
const DEC: [string, number][] = [['E', 1e18], ['P', 1e15], ['T', 1e12], ['G', 1e9], ['M', 1e6], ['k', 1e3]];

/** Prints a value given in milli-units. `binary` prefers Ki/Mi/Gi suffixes when they divide exactly. */
export function formatMilli(m: number, binary = false): string {
  if (m % 1000 !== 0) return `${m}m`;
  const v = m / 1000;
  if (v === 0) return '0';
  if (binary) for (const [s, f] of BIN) if (v % f === 0) return `${v / f}${s}`;
  for (const [s, f] of DEC) if (v % f === 0 && (!binary || v >= f)) return `${v / f}${s}`;
  return String(v);
}

/** Canonical form of a quantity string: keeps the original's suffix family (binary vs decimal). */
export function formatLike(m: number, original?: string | number): string {
  const binary = typeof original === 'string' && /[KMGTPE]i$/.test(original.trim());
  return formatMilli(m, binary);
}
