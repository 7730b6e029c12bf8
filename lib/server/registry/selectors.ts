// Label and field selectors: parsing of the query string forms and matching against objects.
import { badRequest } from './errors.ts';

export type LabelRequirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

export type LabelSelector = LabelRequirement[];

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

function checkKey(key: string, whole: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${whole}"`);
  return key;
}

/** Parses "a=b,c!=d,e in (x,y),!f,g". Throws 400 on syntax errors. */
export function parseLabelSelector(s: string | undefined): LabelSelector {
  if (!s) return [];
  const out: LabelSelector = [];
  for (const part of splitTop(s)) {
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part))) {
      out.push({ key: checkKey(m[1]!, s), op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()) });
    } else if ((m = /^([^=!\s]+)\s*(==|!=|=)\s*([^=!\s]*)$/.exec(part))) {
      out.push({ key: checkKey(m[1]!, s), op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]!] });
    } else if ((m = /^!\s*(\S+)$/.exec(part))) {
      out.push({ key: checkKey(m[1]!, s), op: '!exists' });
    } else if (/^\S+$/.test(part)) {
      out.push({ key: checkKey(part, s), op: 'exists' });
    } else {
      throw badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }
  return out;
}

export function matchLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of sel) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists': if (!has) return false; break;
      case '!exists': if (has) return false; break;
      case 'in': if (!has || !r.values.includes(l[r.key]!)) return false; break;
      case 'notin': if (has && r.values.includes(l[r.key]!)) return false; break;
    }
  }
  return true;
}

/** metav1.LabelSelector object (matchLabels + matchExpressions) to requirements. Empty selector matches all. */
export function fromLabelSelectorObject(o: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): LabelSelector {
  const out: LabelSelector = [];
  for (const [key, v] of Object.entries(o?.matchLabels ?? {})) out.push({ key, op: 'in', values: [v] });
  for (const e of o?.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === 'in' || op === 'notin') out.push({ key: e.key, op, values: e.values ?? [] });
    else if (op === 'exists') out.push({ key: e.key, op: 'exists' });
    else if (op === 'doesnotexist') out.push({ key: e.key, op: '!exists' });
    else throw badRequest(`${e.operator} is not a valid label selector operator`);
  }
  return out;
}

/** A selector as kubectl prints it: "a=b,c in (x,y)". */
export function formatLabelSelector(sel: LabelSelector): string {
  return sel.map((r) => {
    if (r.op === 'exists') return r.key;
    if (r.op === '!exists') return `!${r.key}`;
    if (r.op !== 'in' && r.op !== 'notin') return '';
    if (r.values.length === 1) return `${r.key}${r.op === 'in' ? '=' : '!='}${r.values[0]}`;
    return `${r.key} ${r.op} (${r.values.join(',')})`;
  }).join(',');
}

export interface FieldRequirement { field: string; op: '=' | '!='; value: string }

function unescape(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

/** Parses "metadata.name=x,spec.nodeName!=". */
export function parseFieldSelector(s: string | undefined): FieldRequirement[] {
  if (!s) return [];
  const out: FieldRequirement[] = [];
  for (const part of s.split(/(?<!\\),/).map((x) => x.trim()).filter(Boolean)) {
    const m = /^([^=!]+)(==|!=|=)(.*)$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
    out.push({ field: m[1]!.trim(), op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]!.trim()) });
  }
  return out;
}

export function matchFields(sel: FieldRequirement[], fields: Record<string, string>): boolean {
  for (const r of sel) {
    const v = fields[r.field] ?? '';
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
