// Test fixture shared by the store's tests (conformance.ts, sqlite.test.ts, sqlite-deferred.test.ts): polling with a
// deadline, and a writer process (testdata/*-writer.ts) whose stdout lines report what it wrote, for kill -9 tests.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** Polls cond every 10 ms (calling tick between tries) for up to 30 s; false when the deadline passed. */
export async function pollUntil(cond: () => boolean | Promise<boolean>, tick?: () => void): Promise<boolean> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (await cond()) return true;
    tick?.();
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

export interface WriterProcess {
  child: ChildProcessByStdio<null, Readable, null>;
  /** Settles when the process has exited. */
  exited: Promise<unknown>;
}

/** Runs testdata/<script> on the database at path; onLine gets each complete stdout line. Killed on teardown. */
export function spawnWriter(t: { teardown(fn: () => void): void }, script: string, path: string, onLine: (line: string) => void): WriterProcess {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'testdata', script), path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) onLine(l);
  });
  const exited = new Promise((r) => child.once('exit', r));
  return { child, exited };
}
