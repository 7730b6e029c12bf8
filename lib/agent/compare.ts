// Sort comparators without String.prototype.localeCompare: its ICU collator costs every process that calls it once
// ~2.6 MB (collation data paged in), and the names and addresses sorted on a node are ASCII.

/** Code-unit order (for lowercase DNS names and paths the same order as the default collation). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Digit runs compared as numbers, the rest by code unit: 10.0.0.2 before 10.0.0.10 (localeCompare's numeric). */
export function compareNatural(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i]!, y = rb[i]!;
    if (x === y) continue;
    const dx = x.charCodeAt(0) >= 48 && x.charCodeAt(0) <= 57, dy = y.charCodeAt(0) >= 48 && y.charCodeAt(0) <= 57;
    if (dx && dy) {
      const n = Number(x) - Number(y);
      if (n !== 0) return n < 0 ? -1 : 1;
      if (x.length !== y.length) return x.length - y.length;
      continue;
    }
    return compareText(x, y);
  }
  return ra.length - rb.length;
}
