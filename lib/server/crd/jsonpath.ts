// The small JSONPath subset CRD additionalPrinterColumns and scale paths use: `.a.b`, `.a[0]`, `.a[*].b`,
// `.a['x.y']`, `.a[?(@.type=="Ready")].status`, optionally wrapped in `{}`.

type Step = { field: string } | { index: number } | { all: true } | { filter: { path: string[]; op: '==' | '!='; value: unknown } };

/** Parses a JSONPath expression; throws on syntax it does not support. */
export function parseJsonPath(expr: string): Step[] {
  let s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim();
  if (s.startsWith('$')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '.') {
      i++;
      const m = /^[A-Za-z0-9_\-$]+/.exec(s.slice(i));
      if (!m) {
        if (i >= s.length) break;
        throw new Error(`unsupported JSONPath at ${i}: ${expr}`);
      }
      steps.push({ field: m[0] });
      i += m[0].length;
    } else if (s[i] === '[') {
      const end = s.indexOf(']', i);
      if (end < 0) throw new Error(`unterminated [ in ${expr}`);
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ all: true });
      else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ field: inner.slice(1, -1) });
      else {
        const f = /^\?\(@\.([A-Za-z0-9_.\-]+)\s*(==|!=)\s*(.+)\)$/.exec(inner);
        if (!f) throw new Error(`unsupported JSONPath filter ${inner}`);
        const raw = f[3]!.trim();
        const value = /^'.*'$/.test(raw) ? raw.slice(1, -1) : JSON.parse(raw);
        steps.push({ filter: { path: f[1]!.split('.'), op: f[2] as '==' | '!=', value } });
      }
    } else {
      throw new Error(`unsupported JSONPath at ${i}: ${expr}`);
    }
  }
  return steps;
}

/** All values the path selects in obj. */
export function evalJsonPath(obj: unknown, steps: Step[]): unknown[] {
  let cur: unknown[] = [obj];
  for (const st of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || v === undefined) continue;
      if ('field' in st) {
        if (typeof v === 'object' && !Array.isArray(v) && (v as Record<string, unknown>)[st.field] !== undefined) next.push((v as Record<string, unknown>)[st.field]);
      } else if ('index' in st) {
        if (Array.isArray(v)) { const x = v[st.index < 0 ? v.length + st.index : st.index]; if (x !== undefined) next.push(x); }
      } else if ('all' in st) {
        if (Array.isArray(v)) next.push(...v);
        else if (typeof v === 'object') next.push(...Object.values(v as object));
      } else {
        if (!Array.isArray(v)) continue;
        for (const x of v) {
          let y: unknown = x;
          for (const p of st.filter.path) y = y && typeof y === 'object' ? (y as Record<string, unknown>)[p] : undefined;
          const eq = JSON.stringify(y) === JSON.stringify(st.filter.value);
          if (st.filter.op === '==' ? eq : !eq) next.push(x);
        }
      }
    }
    cur = next;
  }
  return cur;
}

/** A dotted path (`spec.replicas`) from a simple JSONPath (`.spec.replicas`). */
export function dottedPath(expr: string): string {
  return parseJsonPath(expr).map((s) => ('field' in s ? s.field : '')).filter(Boolean).join('.');
}
