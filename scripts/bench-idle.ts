// Idle footprint of a node, side by side with the budgets of docs/ARCHITECTURE.md, in one run:
//  - `tsk server` with its node (containerd supervised as a child) in its own network namespace, no pods: RSS of the
//    tsk process and of containerd, and disk writes of both (/proc/<pid>/io write_bytes) plus the growth of the
//    SQLite files, over a measurement window after a warm-up; which store keys were written in the window.
//  - at the same time a control-plane-only server and one `tsk agent` in two namespaces on one bridge: agent RSS.
// Needs root, containerd, runc, kubectl. Everything started is stopped by PID, nodes with `tsk killall`.
//
//   npm run bench:idle [-- --warmup 60 --window 60]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqlite } from '../lib/store/sqlite-driver.ts';
import { storePath } from '../lib/store/open.ts';
import { createNetns, createNetworkOfNodes, kubectl, startAgent, startServer, tempDir, useBinary, waitFor } from '../test/harness.ts';
import {
  budgetRow, containerdPid, fileSize, fmt, logTimes, printTable, procIo, rssKb, runBench, seedImages, sleep,
} from './bench-common.ts';

const { values: args } = parseArgs({
  options: {
    warmup: { type: 'string', default: '60' },
    window: { type: 'string', default: '60' },
    'no-agent': { type: 'boolean', default: false },
    /** Run this executable (e.g. dist/tsk from `npm run build`) instead of `node cmd/tsk.ts`. */
    binary: { type: 'string' },
    /** Attach strace to tsk and containerd during the window and sum write bytes and fsyncs per file. */
    strace: { type: 'boolean', default: false },
    /** NODE_OPTIONS for the started tsk processes, e.g. '--max-semi-space-size=1' (V8 young generation, in MB). */
    'node-options': { type: 'string' },
  },
});
if (args.binary) useBinary(resolve(args.binary));
const WARMUP_S = Number(args.warmup);
const WINDOW_S = Number(args.window);

const env = args['node-options'] ? { NODE_OPTIONS: args['node-options'] } : undefined;

const BUDGET = { serverRssMb: 150, agentRssMb: 60, idleWritesBps: 1024, readyS: 3 };

function nodeReady(proc: Parameters<typeof kubectl>[0], node: string): boolean {
  return kubectl(proc, ['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']).stdout === 'True';
}

/** Starts strace on pids (all threads), writing to out; returns a stop function that detaches it. */
function startStrace(pids: number[], out: string): () => Promise<void> {
  const child = spawn('strace', ['-f', '-qq', '-y', '-e', 'trace=write,pwrite64,writev,pwritev,fsync,fdatasync,ftruncate,rename,unlink', '-o', out, ...pids.flatMap((p) => ['-p', String(p)])], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
}

/** Per file: bytes written, write calls, fsyncs, from an strace -y log (pipes, sockets and anon inodes left out). */
function summarizeStrace(out: string): [string, number, number, number][] {
  const per = new Map<string, [number, number, number]>();
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /^\d+\s+(\w+)\((\d+)<([^>]*)>.*=\s+(-?\d+)/.exec(line);
    if (!m) continue;
    const [, call, , path, ret] = m;
    if (/^(pipe|socket|anon_inode|UNIX|TCP|UDP|NETLINK|\/dev\/)/.test(path!) || path!.includes(':[')) continue;
    const e = per.get(path!) ?? [0, 0, 0];
    if (call === 'fsync' || call === 'fdatasync') e[2]++;
    else if (call!.startsWith('write') || call!.startsWith('pwrite')) { e[0] += Math.max(0, Number(ret)); e[1]++; }
    per.set(path!, e);
  }
  return [...per.entries()].map(([k, v]) => [k, ...v] as [string, number, number, number]).sort((a, b) => b[1] - a[1]);
}

/** Store rows written after rev, counted per key prefix (the first four path segments). */
function writesByPrefix(dbPath: string, afterRev: number): { maxRev: number; byPrefix: Map<string, number> } {
  const db = openSqlite(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare<{ key: string; rev: number }>('SELECT key, rev FROM kv WHERE rev > ?').all(afterRev);
    const byPrefix = new Map<string, number>();
    let maxRev = afterRev;
    for (const r of rows) {
      const prefix = r.key.split('/').slice(0, 5).join('/');
      byPrefix.set(prefix, (byPrefix.get(prefix) ?? 0) + 1);
      maxRev = Math.max(maxRev, r.rev);
    }
    return { maxRev, byPrefix };
  } finally {
    db.close();
  }
}

/** Valid frames and commits of a WAL file (frames whose salts match the header's; checksums not verified). */
function walFrames(path: string): { id: string; frames: number; commits: number; frameBytes: number } {
  let buf: Buffer;
  try { buf = readFileSync(path); } catch { return { id: '', frames: 0, commits: 0, frameBytes: 0 }; }
  if (buf.length < 32) return { id: '', frames: 0, commits: 0, frameBytes: 0 };
  const pageSize = buf.readUInt32BE(8);
  const salt1 = buf.readUInt32BE(16);
  const salt2 = buf.readUInt32BE(20);
  const frameBytes = pageSize + 24;
  let frames = 0;
  let commits = 0;
  for (let off = 32; off + frameBytes <= buf.length; off += frameBytes) {
    if (buf.readUInt32BE(off + 8) !== salt1 || buf.readUInt32BE(off + 12) !== salt2) break;
    frames++;
    if (buf.readUInt32BE(off + 4) !== 0) commits++;
  }
  return { id: `${buf.readUInt32BE(12)}:${salt1}:${salt2}`, frames, commits, frameBytes };
}

function maxRev(dbPath: string): number {
  const db = openSqlite(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare<{ m: number }>('SELECT max(rev) AS m FROM kv').get()?.m ?? 0;
  } finally {
    db.close();
  }
}

await runBench(async (c) => {
  // 1. The full server with its node.
  const netns = createNetns(c, '10.199.60.2');
  const dataDir = tempDir(c, 'tsk-bench-idle-');
  seedImages(dataDir);
  const t0 = Date.now();
  const server = await startServer(c, { netns, dataDir, nodeName: 'bench-idle', env, args: ['--node-ip', '10.199.60.2', '--log-format', 'json'] });
  const tskPid = server.child.pid!;

  // 2. Agent alone, started alongside (its warm-up overlaps the server's).
  let agentPid: number | undefined;
  let agentDir = '';
  if (!args['no-agent']) {
    const { namespaces, addresses } = createNetworkOfNodes(c, 2, 61);
    const cpDir = tempDir(c, 'tsk-bench-cp-');
    const cp = await startServer(c, { netns: namespaces[0], dataDir: cpDir, nodeName: 'bench-cp', disableAgent: true, keepPods: true, args: ['--node-ip', addresses[0]!] });
    const token = readFileSync(join(cpDir, 'server/token'), 'utf8').trim();
    agentDir = tempDir(c, 'tsk-bench-agent-');
    const agent = startAgent(c, { server: `https://${addresses[0]}:${cp.port}`, token, nodeName: 'bench-agent', env, netns: namespaces[1], dataDir: agentDir, args: ['--node-ip', addresses[1]!] });
    agentPid = agent.child.pid!;
    await waitFor('agent node Ready', () => nodeReady(cp, 'bench-agent'), 150_000);
  }

  await waitFor('server node Ready', () => nodeReady(server, 'bench-idle'), 150_000);
  const tReadyPolled = Date.now();
  const log = server.log();
  const cdReady = logTimes(log, 'containerd ready')[0];
  const nodeReadyLog = logTimes(log, 'node ready')[0];
  const cpReady = logTimes(log, 'control plane ready')[0];
  const cdPid = containerdPid(dataDir);
  if (!cdPid) throw new Error('no containerd pid file');
  const agentCdPid = agentDir ? containerdPid(agentDir) : undefined;

  console.error(`warm-up ${WARMUP_S} s ...`);
  await sleep(WARMUP_S * 1000);

  // 3. Measurement window.
  const db = storePath(dataDir);
  const files = [db, `${db}-wal`, `${db}-shm`];
  const rev0 = maxRev(db);
  const io0 = { tsk: procIo(tskPid), cd: procIo(cdPid), agent: agentPid ? procIo(agentPid) : undefined, agentCd: agentCdPid ? procIo(agentCdPid) : undefined };
  const size0 = files.map(fileSize);
  const wal0 = walFrames(`${db}-wal`);
  const samples = { tsk: [] as number[], cd: [] as number[], agent: [] as number[], agentCd: [] as number[] };
  const straceOut = join(dataDir, 'strace.txt');
  const stopStrace = args.strace ? startStrace([tskPid, cdPid], straceOut) : undefined;
  if (stopStrace) c.teardown(stopStrace);
  const w0 = Date.now();
  console.error(`measuring ${WINDOW_S} s ...`);
  while (Date.now() - w0 < WINDOW_S * 1000) {
    samples.tsk.push(rssKb(tskPid));
    samples.cd.push(rssKb(cdPid));
    if (agentPid) samples.agent.push(rssKb(agentPid));
    if (agentCdPid) samples.agentCd.push(rssKb(agentCdPid));
    await sleep(Math.min(5000, WINDOW_S * 1000 - (Date.now() - w0) + 1));
  }
  const secs = (Date.now() - w0) / 1000;
  await stopStrace?.();
  const io1 = { tsk: procIo(tskPid), cd: procIo(cdPid), agent: agentPid ? procIo(agentPid) : undefined, agentCd: agentCdPid ? procIo(agentCdPid) : undefined };
  const size1 = files.map(fileSize);
  const wal1 = walFrames(`${db}-wal`);
  const { maxRev: rev1, byPrefix } = writesByPrefix(db, rev0);

  const mb = (kb: number) => kb / 1024;
  const last = (a: number[]) => a[a.length - 1] ?? 0;
  const rate = (a: number, b: number) => (b - a) / secs;
  const tskW = rate(io0.tsk.writeBytes, io1.tsk.writeBytes);
  const cdW = rate(io0.cd.writeBytes, io1.cd.writeBytes);

  if (env) console.log(`\nNODE_OPTIONS=${env.NODE_OPTIONS}`);
  console.log(`\ntsk server + node, idle, ${fmt(secs)} s window after ${WARMUP_S} s warm-up (server started ${fmt((w0 - t0) / 1000)} s before)\n`);
  printTable([
    ['process', 'RSS end MB', 'RSS max MB', 'write_bytes B/s', 'wchar B/s', 'write calls/s'],
    ['tsk server (node)', mb(last(samples.tsk)), mb(Math.max(...samples.tsk)), tskW, rate(io0.tsk.wchar, io1.tsk.wchar), rate(io0.tsk.syscw, io1.tsk.syscw)],
    ['containerd (server)', mb(last(samples.cd)), mb(Math.max(...samples.cd)), cdW, rate(io0.cd.wchar, io1.cd.wchar), rate(io0.cd.syscw, io1.cd.syscw)],
    ...(io0.agent && io1.agent ? [['tsk agent', mb(last(samples.agent)), mb(Math.max(...samples.agent)), rate(io0.agent.writeBytes, io1.agent.writeBytes), rate(io0.agent.wchar, io1.agent.wchar), rate(io0.agent.syscw, io1.agent.syscw)]] : []),
    ...(io0.agentCd && io1.agentCd ? [['containerd (agent)', mb(last(samples.agentCd)), mb(Math.max(...samples.agentCd)), rate(io0.agentCd.writeBytes, io1.agentCd.writeBytes), rate(io0.agentCd.wchar, io1.agentCd.wchar), rate(io0.agentCd.syscw, io1.agentCd.syscw)]] : []),
  ]);

  console.log('\nSQLite files (server)\n');
  printTable([
    ['file', 'size start B', 'size end B', 'growth B/s'],
    ...files.map((f, i) => [f.slice(f.lastIndexOf('/') + 1), String(size0[i]), String(size1[i]), rate(size0[i]!, size1[i]!)]),
  ]);

  // A checkpoint that restarted the WAL in the window hides the commits before it: then the figures are lower bounds.
  const walReset = wal0.id !== wal1.id;
  const walCommits = walReset ? wal1.commits : wal1.commits - wal0.commits;
  const walAppended = (walReset ? wal1.frames : wal1.frames - wal0.frames) * wal1.frameBytes;
  console.log(`\nWAL in the window${walReset ? ' (restarted by a checkpoint: lower bounds)' : ''}: ${walReset ? '>= ' : ''}${walCommits} commits (${fmt((walCommits / secs) * 60)}/min), ${walAppended} B of frames appended (${fmt(walAppended / secs)} B/s, ${fmt(walCommits ? walAppended / walCommits : 0)} B/commit)`);

  console.log(`\nstore writes in the window: ${rev1 - rev0} revisions (${fmt(((rev1 - rev0) / secs) * 60)}/min)\n`);
  printTable([
    ['key prefix', 'writes', 'per min'],
    ...[...byPrefix.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, String(n), (n / secs) * 60]),
  ]);

  if (stopStrace) {
    console.log('\nfile writes seen by strace in the window (tsk + containerd, all threads)\n');
    printTable([
      ['file', 'bytes', 'B/s', 'write calls', 'fsyncs'],
      ...summarizeStrace(straceOut).map(([f, b, n, fs]) => [f.replace(dataDir, '<data-dir>'), String(b), b / secs, String(n), String(fs)]),
    ]);
  }

  console.log('\nstartup (server log times)\n');
  printTable([
    ['phase', 's'],
    ['process start -> control plane ready', cpReady ? (cpReady - t0) / 1000 : NaN],
    ['process start -> containerd ready', cdReady ? (cdReady - t0) / 1000 : NaN],
    ['containerd ready -> node ready', cdReady && nodeReadyLog ? (nodeReadyLog - cdReady) / 1000 : NaN],
    ['process start -> Ready seen by kubectl poll', (tReadyPolled - t0) / 1000],
  ]);

  console.log('\nbudgets\n');
  printTable([
    ['budget', 'measured', 'budget', 'ratio', ''],
    budgetRow('tsk server RSS (idle, node, no pods)', mb(last(samples.tsk)), BUDGET.serverRssMb, 'MB'),
    ...(samples.agent.length ? [budgetRow('tsk agent RSS (idle)', mb(last(samples.agent)), BUDGET.agentRssMb, 'MB')] : []),
    budgetRow('idle disk writes, tsk + containerd', tskW + cdW, BUDGET.idleWritesBps, 'B/s'),
    ...(cdReady && nodeReadyLog ? [budgetRow('containerd ready -> node Ready', (nodeReadyLog - cdReady) / 1000, BUDGET.readyS, 's')] : []),
  ]);
});
