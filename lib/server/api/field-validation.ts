// fieldValidation=Strict|Warn|Ignore on writes. Unknown fields answer 400 under Strict; under Warn/Ignore they are dropped
// from the body (as Kubernetes' decoder drops them) and, under Warn, reported in Warning headers. The schema walk is
// the openapi package's; patch directives ($setElementOrder/..., $patch) are not fields.
import type { KubeObject } from '../../client/types.ts';
import { unknownFields } from '../openapi/field-validation.ts';
import { badRequest } from '../registry/errors.ts';
import type { ResourceRequest } from './request.ts';

/** Checks and prunes `obj` in place; returns the warnings to send. */
export function validateFields(r: ResourceRequest, obj: unknown, isPatch = false): string[] {
  // Without the parameter nothing is checked or pruned: a field our schemas lack must never vanish from the
  // writes of our own components (kubectl always sends the parameter).
  const mode = r.query.get('fieldValidation');
  if (!mode || !obj || typeof obj !== 'object' || Array.isArray(obj)) return [];
  const unknown = unknownFields(r.strategy, obj as KubeObject, r.version).filter((p) => !p.includes('$'));
  if (!unknown.length) return [];
  const msgs = unknown.map((p) => `unknown field "${p}"`);
  if (mode === 'Strict') {
    const s = r.strategy;
    throw badRequest(isPatch
      ? `error decoding patch: strict decoding error: ${msgs.join(', ')}`
      : `${s.kind} in version "${r.version}" cannot be handled as a ${s.kind}: strict decoding error: ${msgs.join(', ')}`);
  }
  for (const p of unknown) prune(obj as Record<string, unknown>, p);
  return mode === 'Warn' ? msgs : [];
}

/** Adds `Warning: 299 - "..."` headers (kubectl prints them as "Warning: ..."). */
export function withWarnings(res: Response, warnings: string[]): Response {
  for (const w of warnings) res.headers.append('Warning', `299 - ${JSON.stringify(w)}`);
  return res;
}

function prune(obj: Record<string, unknown>, path: string): void {
  const segs: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return;
    if (m[1]) segs.push(m[1]);
    for (const i of m[2]!.matchAll(/\[(\d+)\]/g)) segs.push(Number(i[1]));
  }
  let cur: unknown = obj;
  for (const s of segs.slice(0, -1)) {
    if (!cur || typeof cur !== 'object') return;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  if (cur && typeof cur === 'object') delete (cur as Record<string | number, unknown>)[segs[segs.length - 1]!];
}
