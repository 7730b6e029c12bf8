// Kubernetes resource quantities ("100m", "64Mi", "1.5", "2G") as plain numbers.
const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
};

export function quantity(q: string | number | undefined): number {
  if (q === undefined || q === '') return 0;
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+)(?:[eE]([+-]?\d+))?([a-zA-Z]*)$/.exec(q.trim());
  if (!m || !(m[3]! in SUFFIX)) throw new Error(`invalid quantity ${JSON.stringify(q)}`);
  return Number(m[1]) * 10 ** Number(m[2] ?? 0) * SUFFIX[m[3]!]!;
}
