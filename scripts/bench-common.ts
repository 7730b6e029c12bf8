// Shared pieces of the node benchmarks (bench-idle, bench-pods, bench-api): a cleanup stack run on exit and on
// SIGINT/SIGTERM, /proc readers, percentiles and a compact table printer. Not part of the test suite.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxImageArchive } from '../lib/agent/images/builtin.ts';
import { root } from '../test/harness.ts';

/** A teardown stack in the shape test/harness.ts expects (t.teardown), run in reverse order. */
export class Cleanup {
  #fns: (() => void | Promise<void>)[] = [];
  #running?: Promise<void>;
  teardown(fn: () => void | Promise<void>): void {
    this.#fns.push(fn);
  }
  /** Runs the teardowns once; a second caller (e.g. a signal during cleanup) waits for the same run. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      for (const fn of this.#fns.reverse()) {
        try { await fn(); } catch (e) { console.error('cleanup:', (e as Error).message); }
      }
    })();
    return this.#running;
  }
}

/** Runs main with a Cleanup that also runs on SIGINT/SIGTERM; exits non-zero on error. */
export async function runBench(main: (c: Cleanup) => Promise<void>): Promise<void> {
  const c = new Cleanup();
  const onSignal = () => { void c.run().then(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await main(c);
  } catch (e) {
    console.error(e);
    process.exitCode = 1;
  } finally {
    await c.run();
  }
}

export const NODE = existsSync(join(root, 'node_modules/node/bin/node')) ? join(root, 'node_modules/node/bin/node') : process.execPath;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resident set size of a process in KiB (0 when gone). */
export function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) of a process from /proc/<pid>/stat (NaN when gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** /proc/<pid>/io counters (write_bytes = bytes sent to the block layer, wchar = bytes passed to write calls). */
export function procIo(pid: number): { writeBytes: number; wchar: number; syscw: number } {
  try {
    const s = readFileSync(`/proc/${pid}/io`, 'utf8');
    const f = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
    return { writeBytes: f('write_bytes'), wchar: f('wchar'), syscw: f('syscw') };
  } catch {
    return { writeBytes: 0, wchar: 0, syscw: 0 };
  }
}

/** Child process ids of pid (direct children only). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function containerdPid(dataDir: string): number | undefined {
  const p = join(dataDir, 'agent/containerd/containerd.pid');
  if (!existsSync(p)) return undefined;
  const pid = Number(readFileSync(p, 'utf8').trim());
  return pid > 1 ? pid : undefined;
}

export function fileSize(path: string): number {
  try { return statSync(path).size; } catch { return 0; }
}

/** Puts the builtin busybox image where the node imports it at start. */
export function seedImages(dataDir: string): void {
  mkdirSync(join(dataDir, 'agent/images'), { recursive: true });
  writeFileSync(join(dataDir, 'agent/images/busybox.tar'), busyboxImageArchive());
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function fmt(v: number, digits = 1): string {
  if (!Number.isFinite(v)) return '-';
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits);
}

/** Prints rows as an aligned table (first row is the header). */
export function printTable(rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const [n, r] of cells.entries()) {
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/** A row comparing a measured value with a budget: [what, measured, budget, ratio, verdict]. Lower is better. */
export function budgetRow(what: string, measured: number, budget: number, unit: string): string[] {
  const ratio = measured / budget;
  return [what, `${fmt(measured)} ${unit}`, `${fmt(budget)} ${unit}`, `${ratio.toFixed(2)}x`, ratio <= 1 ? 'ok' : 'MISS'];
}

/** Times (epoch ms) of JSON log lines whose msg equals msg. */
export function logTimes(log: string, msg: string): number[] {
  const out: number[] = [];
  for (const line of log.split('\n')) {
    if (!line.startsWith('{') || !line.includes(msg)) continue;
    try {
      const o = JSON.parse(line) as { msg?: string; time?: number };
      if (o.msg === msg && typeof o.time === 'number') out.push(o.time);
    } catch { /* partial line */ }
  }
  return out;
}

/** A worker's result: one JSON line on stdout, flushed before the worker exits (stdout to a pipe is asynchronous). */
export function writeResult(value: unknown): Promise<void> {
  return new Promise((resolve) => process.stdout.write(JSON.stringify(value) + '\n', () => resolve()));
}

/**
 * Runs this script (or another) as a worker inside a network namespace (nsenter --net) and returns its last stdout
 * line parsed as JSON. The worker's stderr is passed through.
 */
export function runWorker(netns: string, script: string, args: string[], timeoutMs = 600_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', NODE, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`worker ${script} exited with ${code}: ${out.slice(-2000)}`));
      try { resolve(JSON.parse(last)); } catch { reject(new Error(`worker output is not JSON: ${last.slice(0, 500)}`)); }
    });
  });
}
