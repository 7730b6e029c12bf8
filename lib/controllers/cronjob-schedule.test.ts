import t from 'tap';
import { nextSchedule, parseSchedule } from './cronjob-schedule.ts';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString().replace('.000Z', 'Z'));
const at = (s: string) => Date.parse(s);

t.test('nextSchedule table', async (t) => {
  const cases: [string, string, string | undefined, string | undefined][] = [
    ['*/15 * * * *', '2026-01-01T00:07:00Z', undefined, '2026-01-01T00:15:00Z'],
    ['* * * * *', '2026-01-01T00:07:30Z', undefined, '2026-01-01T00:08:00Z'],
    ['0 0 * * *', '2026-01-01T00:00:00Z', undefined, '2026-01-02T00:00:00Z'],
    ['@hourly', '2026-01-01T10:30:00Z', undefined, '2026-01-01T11:00:00Z'],
    ['@daily', '2026-01-01T10:30:00Z', undefined, '2026-01-02T00:00:00Z'],
    ['@midnight', '2026-01-01T10:30:00Z', undefined, '2026-01-02T00:00:00Z'],
    ['@weekly', '2026-01-01T10:30:00Z', undefined, '2026-01-04T00:00:00Z'],
    ['@monthly', '2026-01-01T10:30:00Z', undefined, '2026-02-01T00:00:00Z'],
    ['@yearly', '2026-01-01T10:30:00Z', undefined, '2027-01-01T00:00:00Z'],
    ['@annually', '2026-01-01T10:30:00Z', undefined, '2027-01-01T00:00:00Z'],
    ['0 9 * * mon-fri', '2026-01-03T00:00:00Z', undefined, '2026-01-05T09:00:00Z'],
    ['0 9 * * MON,wed', '2026-01-05T09:00:00Z', undefined, '2026-01-07T09:00:00Z'],
    ['0 0 1,15 * 1', '2026-01-01T00:00:00Z', undefined, '2026-01-05T00:00:00Z'],
    ['0 0 */10 * *', '2026-01-01T00:00:00Z', undefined, '2026-01-11T00:00:00Z'],
    ['5-10/5 3 * jan-mar *', '2026-04-01T00:00:00Z', undefined, '2027-01-01T03:05:00Z'],
    ['0 0 29 feb *', '2026-01-01T00:00:00Z', undefined, '2028-02-29T00:00:00Z'],
    ['0 0 31 2 *', '2026-01-01T00:00:00Z', undefined, undefined],
    ['CRON_TZ=America/New_York 0 9 * * *', '2026-01-01T00:00:00Z', undefined, '2026-01-01T14:00:00Z'],
    ['TZ=Asia/Tokyo 0 9 * * *', '2026-01-01T00:00:00Z', undefined, '2026-01-02T00:00:00Z'],
    ['0 9 * * *', '2026-01-01T00:00:00Z', 'Asia/Kolkata', '2026-01-01T03:30:00Z'],
    // spring forward in New York (2026-03-08 02:00 EST -> 03:00 EDT): 02:30 does not exist that day
    ['30 2 * * *', '2026-03-07T08:00:00Z', 'America/New_York', '2026-03-09T06:30:00Z'],
    ['0 * * * *', '2026-03-08T06:30:00Z', 'America/New_York', '2026-03-08T07:00:00Z'],
    // fall back (2026-11-01 02:00 EDT -> 01:00 EST): 01:30 happens twice
    ['30 1 * * *', '2026-11-01T04:00:00Z', 'America/New_York', '2026-11-01T05:30:00Z'],
    ['30 1 * * *', '2026-11-01T05:30:00Z', 'America/New_York', '2026-11-01T06:30:00Z'],
    ['30 1 * * *', '2026-11-01T06:30:00Z', 'America/New_York', '2026-11-02T06:30:00Z'],
    ['0 3 * * *', '2026-11-01T04:00:00Z', 'America/New_York', '2026-11-01T08:00:00Z'],
  ];
  for (const [spec, after, tz, want] of cases) t.equal(iso(nextSchedule(spec, at(after), tz)), want, `${spec} after ${after} in ${tz ?? 'UTC'}`);
});

t.test('parseSchedule rejects bad schedules', async (t) => {
  for (const bad of ['60 * * * *', '* * * *', '* * * * * *', '@every 5m', 'TZ=Bad/Zone * * * * *', '5-1 * * * *', '*/0 * * * *', '* * * * 7', 'x * * * *']) {
    t.throws(() => parseSchedule(bad), bad);
  }
  const s = parseSchedule('*/2 * * * *');
  t.equal(s.minute.size, 30);
  t.equal(parseSchedule('0 0 * * *').domStar, true);
});
