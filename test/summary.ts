// Prints the plain `N passed, M failed` line from a TAP report: leaf assertions of every test file. A parent
// that failed without a failing leaf (a crashed file, a timeout) counts as one failure.
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2] ?? '.tap/report.tap', 'utf8');
let passed = 0;
let failed = 0;
let skipped = 0;
const open: { indent: number; failedBefore: number }[] = [];
for (const line of text.split('\n')) {
  const indent = line.length - line.trimStart().length;
  const body = line.trimStart();
  if (body.startsWith('# Subtest')) {
    open.push({ indent, failedBefore: failed });
    continue;
  }
  const m = /^(not ok|ok) \d+/.exec(body);
  if (!m) continue;
  const top = open[open.length - 1];
  if (top && top.indent === indent) {
    open.pop();
    if (m[1] === 'not ok' && failed === top.failedBefore && !/# (SKIP|TODO)/i.test(body)) failed++;
    continue;
  }
  if (/# (SKIP|TODO)/i.test(body)) skipped++;
  else if (m[1] === 'ok') passed++;
  else failed++;
}
if (skipped) console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
