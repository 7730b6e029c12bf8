import t from 'tap';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followLogFile, parseCriLogLine, readLogFile, renderLogs } from './logs.ts';

const sample = [
  '2026-11-23T11:09:26.318946006Z stdout F one',
  '2026-11-23T11:09:27.000000001Z stderr F oops',
  '2026-11-23T11:09:28.100000000Z stdout P par',
  '2026-11-23T11:09:28.200000000Z stdout F tial',
  '2026-11-23T11:09:29.000000000Z stdout F last',
  '',
].join('\n');

t.test('parse and render CRI log lines', async (t) => {
  t.same(parseCriLogLine('2026-11-23T11:09:26.318946006Z stdout F tick tock'), { time: '2026-11-23T11:09:26.318946006Z', stream: 'stdout', partial: false, text: 'tick tock' });
  t.equal(parseCriLogLine('garbage'), undefined);
  t.equal(renderLogs(sample), 'one\noops\npartial\nlast\n');
  t.equal(renderLogs(sample, { tailLines: 2 }), 'partial\nlast\n');
  t.equal(renderLogs(sample, { timestamps: true, tailLines: 1 }), '2026-11-23T11:09:29.000000000Z last\n');
  t.equal(renderLogs(sample, { sinceMs: Date.parse('2026-11-23T11:09:28Z') }), 'partial\nlast\n');
  t.equal(renderLogs(sample, { limitBytes: 6 }), 'one\noo');
  t.equal(renderLogs(sample, { stream: 'stderr' }), 'oops\n');
});

t.test('follow yields new lines and stops when the container stops', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsk-logs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, '0.log');
  writeFileSync(f, sample);
  t.equal(await readLogFile(f, { tailLines: 1 }), 'last\n');
  let running = true;
  const ac = new AbortController();
  const got: string[] = [];
  const it = followLogFile(f, { signal: ac.signal, stillRunning: async () => running, pollMs: 10, tailLines: 1 });
  for await (const chunk of it) {
    got.push(chunk);
    if (got.length === 1) appendFileSync(f, '2026-11-23T11:09:30.000000000Z stdout F more\n');
    if (got.length === 2) running = false;
    if (got.length > 5) break;
  }
  t.same(got, ['last\n', 'more\n']);
});
