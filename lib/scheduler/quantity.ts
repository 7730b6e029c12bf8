// Kubernetes resource.Quantity parsing, enough for scheduling: CPU as millicores, everything else as integers.
const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The quantity's value as a number (e.g. "1Gi" → 1073741824, "250m" → 0.25, "1e3" → 1000). NaN when invalid. */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined || q === null) return 0;
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/.exec(q.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  const suf = m[3] ?? '';
  return n * (binary[suf] ?? decimal[suf]!);
}

/** Integer amount in the scheduler's unit: millicores for cpu, whole units otherwise (rounded up, as k8s). */
export function toUnits(resource: string, q: string | number | undefined): number {
  const v = parseQuantity(q);
  if (!Number.isFinite(v)) return 0;
  return resource === 'cpu' ? Math.ceil(v * 1000 - 1e-9) : Math.ceil(v - 1e-9);
}
