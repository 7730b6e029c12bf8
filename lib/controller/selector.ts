// metav1.LabelSelector matching (matchLabels + matchExpressions) and the same for node selector terms.
export interface LabelSelectorRequirement {
  key: string;
  operator: string; // In, NotIn, Exists, DoesNotExist (labels); also Gt, Lt for node selectors
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export function matchesRequirement(r: LabelSelectorRequirement, labels: Record<string, string> = {}): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  switch (r.operator) {
    case 'In': return has && (r.values ?? []).includes(v!);
    case 'NotIn': return !has || !(r.values ?? []).includes(v!);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    case 'Gt': return has && Number.isFinite(Number(v)) && Number(v) > Number(r.values?.[0]);
    case 'Lt': return has && Number.isFinite(Number(v)) && Number(v) < Number(r.values?.[0]);
    default: return false;
  }
}

/** An empty selector matches everything; a null/undefined one matches nothing (as in Kubernetes). */
export function matchesSelector(sel: LabelSelector | null | undefined, labels: Record<string, string> = {}): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const r of sel.matchExpressions ?? []) if (!matchesRequirement(r, labels)) return false;
  return true;
}

/** Label-selector string form for list queries ("a=b,c in (d,e)"). */
export function selectorToString(sel: LabelSelector | undefined): string {
  if (!sel) return '';
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of sel.matchExpressions ?? []) {
    const vs = (r.values ?? []).join(',');
    if (r.operator === 'In') parts.push(`${r.key} in (${vs})`);
    else if (r.operator === 'NotIn') parts.push(`${r.key} notin (${vs})`);
    else if (r.operator === 'Exists') parts.push(r.key);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
  }
  return parts.join(',');
}

export const isEmptySelector = (sel: LabelSelector | undefined): boolean =>
  !!sel && Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
