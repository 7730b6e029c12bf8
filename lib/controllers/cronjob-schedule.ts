// Cron schedules as the CronJob controller reads them (the robfig/cron v3 "standard" parser): five fields
// (minute hour day-of-month month day-of-week) with lists, ranges, steps and month/day names, the @descriptors, an
// optional `CRON_TZ=Zone ` / `TZ=Zone ` prefix, and next-time search in an IANA time zone through Intl.

export interface CronSchedule {
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  dow: Set<number>;
  /** True when day-of-month or day-of-week started with `*` (then both must match; otherwise either). */
  domStar: boolean;
  dowStar: boolean;
  /** Zone from a CRON_TZ= / TZ= prefix. */
  timeZone?: string;
  /** `@every <duration>`: a constant delay in ms (whole seconds, at least 1 s). */
  every?: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface Bounds { min: number; max: number; names?: string[]; nameBase?: number }

function parseValue(s: string, b: Bounds): number {
  if (b.names) {
    const i = b.names.indexOf(s.toLowerCase());
    if (i >= 0) return i + (b.nameBase ?? 0);
  }
  if (!/^\d+$/.test(s)) throw new Error(`failed to parse int from ${s}`);
  return Number(s);
}

/** One field: comma-separated ranges. Returns the set and whether it was a plain star. */
function parseField(field: string, b: Bounds): { set: Set<number>; star: boolean } {
  const set = new Set<number>();
  let star = false;
  for (const part of field.split(',')) {
    const [rangePart, stepPart, extra] = part.split('/');
    if (extra !== undefined || rangePart === undefined || rangePart === '') throw new Error(`invalid range: ${part}`);
    const lowHigh = rangePart.split('-');
    if (lowHigh.length > 2) throw new Error(`too many hyphens: ${part}`);
    let start: number, end: number;
    let partStar = false;
    if (lowHigh[0] === '*' || lowHigh[0] === '?') {
      if (lowHigh.length > 1) throw new Error(`invalid range: ${part}`);
      start = b.min; end = b.max; partStar = true;
    } else {
      start = parseValue(lowHigh[0]!, b);
      end = lowHigh.length === 2 ? parseValue(lowHigh[1]!, b) : start;
    }
    let step = 1;
    if (stepPart !== undefined) {
      if (!/^\d+$/.test(stepPart)) throw new Error(`failed to parse int from ${stepPart}`);
      step = Number(stepPart);
      if (step === 0) throw new Error(`step of range should be a positive number: ${part}`);
      if (lowHigh.length === 1) end = b.max; // "N/step" means "N-max/step"
      if (step > 1) partStar = false;
    }
    if (start < b.min) throw new Error(`beginning of range (${start}) below minimum (${b.min}): ${part}`);
    if (end > b.max) throw new Error(`end of range (${end}) above maximum (${b.max}): ${part}`);
    if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${part}`);
    for (let v = start; v <= end; v += step) set.add(v);
    star ||= partStar;
  }
  return { set, star };
}

/** Parses a schedule; throws Error with a robfig-like message when invalid. */
export function parseSchedule(spec: string): CronSchedule {
  let s = spec.trim();
  let timeZone: string | undefined;
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(s);
  if (tz) {
    timeZone = tz[1];
    if (!isValidTimeZone(timeZone!)) throw new Error(`provided bad location ${timeZone}`);
    s = s.slice(tz[0].length).trim();
  }
  const every = /^@every\s+(\S+)$/i.exec(s);
  if (every) {
    const ms = Math.max(1000, Math.floor(parseGoDuration(every[1]!) / 1000) * 1000);
    const none = new Set<number>();
    return { minute: none, hour: none, dom: none, month: none, dow: none, domStar: false, dowStar: false, timeZone, every: ms };
  }
  if (s.startsWith('@')) {
    const d = DESCRIPTORS[s.toLowerCase()];
    if (!d) throw new Error(`unrecognized descriptor: ${s}`);
    s = d;
  }
  const fields = s.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: ${spec}`);
  const minute = parseField(fields[0]!, { min: 0, max: 59 });
  const hour = parseField(fields[1]!, { min: 0, max: 23 });
  const dom = parseField(fields[2]!, { min: 1, max: 31 });
  const month = parseField(fields[3]!, { min: 1, max: 12, names: MONTHS, nameBase: 1 });
  const dow = parseField(fields[4]!, { min: 0, max: 6, names: DAYS });
  return { minute: minute.set, hour: hour.set, dom: dom.set, month: month.set, dow: dow.set, domStar: dom.star, dowStar: dow.star, timeZone };
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("1h30m", "90s", "1.5h") in ms; throws when invalid or not positive. */
export function parseGoDuration(d: string): number {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0, pos = 0, m: RegExpExecArray | null;
  while ((m = re.exec(d))) { total += Number(m[1]) * UNITS[m[2]!]!; pos = re.lastIndex; }
  if (!d || pos !== d.length || total <= 0) throw new Error(`failed to parse duration @every ${d}`);
  return total;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Milliseconds to add to a UTC instant to get the wall-clock time in tz (as if it were UTC). */
export function zoneOffset(instant: number, tz: string): number {
  if (tz === 'UTC' || tz === 'Etc/UTC') return 0;
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(instant))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - Math.floor(instant / 1000) * 1000;
}

/** Every instant whose wall-clock time in tz is `wall` (0 in a DST gap, 2 in an overlap), ascending. */
function instantsAt(wall: number, tz: string): number[] {
  const out = new Set<number>();
  for (const probe of [wall - 14 * 3600_000, wall, wall + 14 * 3600_000]) {
    const cand = wall - zoneOffset(probe, tz);
    if (cand + zoneOffset(cand, tz) === wall) out.add(cand);
  }
  return [...out].sort((a, b) => a - b);
}

function dayMatches(s: CronSchedule, d: Date): boolean {
  const domMatch = s.dom.has(d.getUTCDate());
  const dowMatch = s.dow.has(d.getUTCDay());
  return s.domStar || s.dowStar ? domMatch && dowMatch : domMatch || dowMatch;
}

const sorted = (x: Set<number>) => [...x].sort((a, b) => a - b);
const YEARS_LIMIT = 5;

/**
 * The first scheduled instant strictly after `after` (ms since epoch, minute resolution), in time zone tz (the
 * schedule's own CRON_TZ wins; default UTC). Wall times skipped by a DST gap do not run; wall times repeated by a DST
 * overlap run at each occurrence (as robfig/cron does). Undefined when nothing matches within five years.
 */
export function nextSchedule(spec: string | CronSchedule, after: number, tz?: string): number | undefined {
  const s = typeof spec === 'string' ? parseSchedule(spec) : spec;
  if (s.every) return Math.floor(after / 1000) * 1000 + s.every;
  const zone = s.timeZone ?? tz ?? 'UTC';
  const afterWall = after + zoneOffset(after, zone);
  const hours = sorted(s.hour), minutes = sorted(s.minute);
  const startDay = new Date(afterWall - 3 * 3600_000);
  let day = Date.UTC(startDay.getUTCFullYear(), startDay.getUTCMonth(), startDay.getUTCDate());
  const limit = day + YEARS_LIMIT * 366 * 86400_000;
  let best: number | undefined;
  let bestWall = 0;
  for (; day <= limit; day += 86400_000) {
    if (best !== undefined && day > bestWall + 3 * 3600_000) break;
    const d = new Date(day);
    if (!s.month.has(d.getUTCMonth() + 1) || !dayMatches(s, d)) continue;
    for (const h of hours) {
      for (const m of minutes) {
        const wall = day + h * 3600_000 + m * 60_000;
        if (wall < afterWall - 3 * 3600_000) continue;
        if (best !== undefined && wall > bestWall + 3 * 3600_000) break;
        for (const inst of instantsAt(wall, zone)) {
          if (inst > after && (best === undefined || inst < best)) { best = inst; bestWall = wall; }
        }
        // Without an offset change nearby, later wall times are later instants: done.
        if (best !== undefined && zoneOffset(best - 3 * 3600_000, zone) === zoneOffset(best + 3 * 3600_000, zone)) return best;
      }
    }
  }
  return best;
}
