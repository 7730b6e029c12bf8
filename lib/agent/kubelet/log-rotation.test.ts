import t from 'tap';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tempDir } from '../../test-fixture.ts';
import { followLogFile } from './logs.ts';
import { containerLogPolicy, DEFAULT_LOG_POLICY, rotateContainerLog, rotationPlan } from './log-rotation.ts';

t.test('policy from --kubelet-arg, with the kubelet defaults', async (t) => {
  t.same(containerLogPolicy([]), DEFAULT_LOG_POLICY);
  t.same(containerLogPolicy(['container-log-max-size=1Mi', 'container-log-max-files=3']), { maxBytes: 1024 * 1024, maxFiles: 3 });
  t.throws(() => containerLogPolicy(['container-log-max-files=1']), /must be an integer greater than 1/);
  t.throws(() => containerLogPolicy(['container-log-max-size=lots']), /want a size/);
});

t.test('the plan keeps the newest maxFiles-2 rotated files, compresses them and drops leftovers', async (t) => {
  const l = '/logs/c/0.log';
  t.same(rotationPlan([], 5), { remove: [], compress: [] });
  t.same(rotationPlan([`${l}.20260101-000001.gz`, `${l}.20260101-000003`, `${l}.20260101-000002.gz`], 5), { remove: [], compress: [`${l}.20260101-000003`] });
  t.same(rotationPlan([`${l}.20260101-000001.gz`, `${l}.20260101-000002.gz`, `${l}.20260101-000003.gz`, `${l}.20260101-000004`], 4), {
    remove: [`${l}.20260101-000001.gz`, `${l}.20260101-000002.gz`], compress: [`${l}.20260101-000004`],
  });
  t.same(rotationPlan([`${l}.20260101-000001.gz.tmp`, `${l}.20260101-000001`, `${l}.20260101-000002`, `${l}.20260101-000002.gz`], 5), {
    remove: [`${l}.20260101-000001.gz.tmp`, `${l}.20260101-000002`], compress: [`${l}.20260101-000001`],
  }, 'an unfinished compression is redone; a finished one removes its source');
  t.same(rotationPlan([`${l}.a.gz`, `${l}.b.gz`], 2), { remove: [`${l}.a.gz`, `${l}.b.gz`], compress: [] }, 'with 2 files only the live one and the next rotated stay');
});

t.test('a log over the limit is rotated, reopened, compressed later and capped; a failed reopen renames it back', async (t) => {
  const dir = tempDir(t, 'tsk-logrot-');
  const logPath = join(dir, '0.log');
  const reopened: string[] = [];
  let fail = false;
  // As containerd does on ReopenContainerLog: a new, empty file at the path.
  const cri = { reopenContainerLog: async (id: string) => { if (fail) throw new Error('not running'); reopened.push(id); writeFileSync(logPath, ''); } };
  const policy = { maxBytes: 100, maxFiles: 3 };
  writeFileSync(logPath, 'x'.repeat(50));
  t.equal(await rotateContainerLog(cri, 'c1', logPath, policy, Date.UTC(2026, 0, 1, 0, 0, 1)), false, 'under the limit');
  appendFileSync(logPath, 'y'.repeat(60));
  t.equal(await rotateContainerLog(cri, 'c1', logPath, policy, Date.UTC(2026, 0, 1, 0, 0, 2)), true);
  t.same(reopened, ['c1']);
  t.same(readdirSync(dir).sort(), ['0.log', '0.log.20260101-000002']);
  t.equal(readFileSync(logPath, 'utf8'), '');

  writeFileSync(logPath, 'z'.repeat(200));
  await rotateContainerLog(cri, 'c1', logPath, policy, Date.UTC(2026, 0, 1, 0, 0, 3));
  t.same(readdirSync(dir).sort(), ['0.log', '0.log.20260101-000002.gz', '0.log.20260101-000003'], 'the older one compressed');
  t.equal(gunzipSync(readFileSync(join(dir, '0.log.20260101-000002.gz'))).toString(), 'x'.repeat(50) + 'y'.repeat(60));

  writeFileSync(logPath, 'w'.repeat(200));
  await rotateContainerLog(cri, 'c1', logPath, policy, Date.UTC(2026, 0, 1, 0, 0, 4));
  t.same(readdirSync(dir).sort(), ['0.log', '0.log.20260101-000003.gz', '0.log.20260101-000004'], 'at most 3 files: the oldest went');

  fail = true;
  writeFileSync(logPath, 'v'.repeat(200));
  await t.rejects(rotateContainerLog(cri, 'c1', logPath, policy, Date.UTC(2026, 0, 1, 0, 0, 5)), /failed to reopen container log c1/);
  t.equal(readFileSync(logPath, 'utf8'), 'v'.repeat(200), 'renamed back');
  t.notOk(existsSync(join(dir, '0.log.20260101-000005')));
});

t.test('kubectl logs -f goes on across a rotation', async (t) => {
  const dir = tempDir(t, 'tsk-logrot-');
  const logPath = join(dir, '0.log');
  const line = (s: string) => `2026-01-01T00:00:00.000000000Z stdout F ${s}\n`;
  writeFileSync(logPath, line('one'));
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const it = followLogFile(logPath, { signal: ac.signal, stillRunning: async () => true, pollMs: 10 });
  const seen: string[] = [];
  const reader = (async () => { for await (const chunk of it) { seen.push(chunk); if (seen.join('').includes('three')) break; } })();
  await new Promise((r) => setTimeout(r, 50));
  appendFileSync(logPath, line('two'));
  await new Promise((r) => setTimeout(r, 50));
  await rotateContainerLog({ reopenContainerLog: async () => writeFileSync(logPath, '') }, 'c', logPath, { maxBytes: 1, maxFiles: 5 }, Date.UTC(2026, 0, 1));
  appendFileSync(logPath, line('three'));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([reader, new Promise((r) => { timer = setTimeout(r, 3000); })]);
  clearTimeout(timer);
  ac.abort();
  t.equal(seen.join(''), 'one\ntwo\nthree\n');
});
