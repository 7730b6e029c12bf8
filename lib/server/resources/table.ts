// Table helpers shared by strategies: the NAME and AGE columns and the human duration kubectl users expect.
import type { KubeObject } from '../../client/types.ts';
import type { ColumnDefinition } from './types.ts';

export function column(name: string, type: ColumnDefinition['type'] = 'string', priority = 0, description = '', format = ''): ColumnDefinition {
  return { name, type, format, description, priority };
}

export const nameColumn: ColumnDefinition = column('Name', 'string', 0, 'Name must be unique within a namespace.', 'name');
export const ageColumn: ColumnDefinition = column('Age', 'string', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created.');

/** Age of an object as kubectl prints it (5s, 3m2s, 4h, 2d3h, 400d). */
export function age(obj: KubeObject, now: number): string {
  const ts = obj.metadata.creationTimestamp;
  if (!ts) return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

/** Mirrors apimachinery's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 60 * 2) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 60 * 3) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  if (h < 24 * 365 * 8) { const y = Math.floor(h / 24 / 365); const d = Math.floor(h / 24) % 365; return d === 0 ? `${y}y` : `${y}y${d}d`; }
  return `${Math.floor(h / 24 / 365)}y`;
}

/** Default cells when a strategy defines none: name and age. */
export const defaultColumns: ColumnDefinition[] = [nameColumn, ageColumn];
export function defaultCells(obj: KubeObject, now: number): unknown[] {
  return [obj.metadata.name, age(obj, now)];
}

/** "a=b,c=d" as kubectl prints label maps and selectors; '<none>' when empty. */
export function formatLabels(m: Record<string, string> | undefined): string {
  const e = Object.entries(m ?? {});
  return e.length ? e.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}
