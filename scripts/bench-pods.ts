// Pod startup latency on one node, vs the budget (create -> Running p99 <= 1 s with the image present) and the
// Kubernetes SLO (pod startup p99 <= 5 s), in one run: `tsk server` with its node in its own network namespace, the
// busybox image seeded; N pods created at once (burst, the saturation pods of the SLO's density test), kept running
// while --latency pods are created one after another, each once the previous one runs (the density test's latency
// pods: the SLO's p99 is measured on these, on a node that already holds its pods), and then N created one per
// --gap ms on an idle node (paced). RSS of tsk, containerd and the shims is read with the N burst pods running. Latency is
// measured by a worker inside the namespace with the HTTPS client: from just before the create request to the first
// watch event showing phase Running (and spec.nodeName for scheduling). Also start -> node Ready from the server log.
// Per-phase times come from the kubelet's log lines (creating sandbox, sandbox created, starting container, container
// started) joined with the worker's watch times; CPU-seconds of the runtime (containerd with the shims, runc and the
// CNI plugins it reaps, and the live shims of this node) and of the tsk process are read from /proc/<pid>/stat from
// the round's first create to its last Running pod: they do not grow with the machine's load as wall times do.
// Needs root, containerd, runc, kubectl. Everything started is stopped by PID, the node with `tsk killall`.
//
//   npm run bench:pods [-- --n 30 --latency 30 --gap 200 --binary dist/tsk --no-paced --log FILE]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HttpsClient, optionsFromKubeconfig } from '../lib/client/https.ts';
import { core, type KubeObject } from '../lib/client/types.ts';
import { createNetns, kubectl, startServer, tempDir, useBinary, waitFor } from '../test/harness.ts';
import { budgetRow, containerdPid, logTimes, percentile, printTable, rssKb, writeResult, runBench, runWorker, seedImages, sleep } from './bench-common.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '30' },
    gap: { type: 'string', default: '200' },
    /** Latency pods created one at a time while the burst's pods run. */
    latency: { type: 'string', default: '30' },
    /** Skip the paced round (quicker iterations). */
    'no-paced': { type: 'boolean', default: false },
    binary: { type: 'string' },
    worker: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    'tsk-pid': { type: 'string' },
    'containerd-pid': { type: 'string' },
    'containerd-sock': { type: 'string' },
    /** Write the server's log (JSON lines) to this file. */
    log: { type: 'string' },
  },
});
const N = Number(args.n);
const GAP = Number(args.gap);
const LATENCY = Number(args.latency);

interface RoundResult {
  label: string;
  created: number;
  running: number;
  toScheduled: number[];
  toRunning: number[];
  wallMs: number;
  /** Per pod: epoch ms of the create request, the first bound and the first Running watch event. */
  pods: Record<string, { created: number; scheduled?: number; running?: number }>;
  /**
   * CPU-seconds from before the first create to the last Running pod: runtime = containerd + cni (containerd's reaped
   * children: CNI plugins and shim starters) + shim + runc (the shims' reaped children); tsk with its reaped children.
   */
  cpu: { runtime: number; containerd: number; cni: number; shim: number; runc: number; tsk: number; machineBusy: number };
  /** Warning events of the round's namespace by reason and message, e.g. FailedScheduling (count). */
  warnings: Record<string, number>;
  /** VmRSS in KiB once every pod of the round runs (before they are deleted). */
  rss?: Rss;
}

interface Rss { tsk: number; containerd: number; shims: number; shimCount: number }

/** [own utime + stime, reaped children's cutime + cstime] of a process in seconds; zeros when gone. */
function cpuSeconds(pid: number): [number, number] {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return [(Number(f[11]) + Number(f[12])) / 100, (Number(f[13]) + Number(f[14])) / 100];
  } catch {
    return [0, 0];
  }
}

type Cpu = RoundResult['cpu'];

/**
 * CPU-seconds by process: containerd (its reaped children: CNI plugins, shim starters), this node's shims (their reaped
 * children: runc), and tsk (its reaped children: iptables and the like). Shims are keyed by pid.
 */
/** Busy and total jiffies of the whole machine (/proc/stat): how much of the CPUs a round kept busy, whoever it was. */
function machineJiffies(): [number, number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - f[3]! - (f[4] ?? 0), total];
}

function cpuSnapshot(): { tsk: number; containerd: [number, number]; shims: Map<number, [number, number]>; machine: [number, number] } {
  const shims = new Map<number, [number, number]>();
  const sock = args['containerd-sock'];
  for (const d of sock ? readdirSync('/proc') : []) {
    if (!/^\d+$/.test(d)) continue;
    let cmd = '';
    try { cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8'); } catch { continue; }
    if (cmd.includes('containerd-shim') && cmd.includes(`\0${sock}`)) shims.set(Number(d), cpuSeconds(Number(d)));
  }
  const tsk = cpuSeconds(Number(args['tsk-pid']));
  return { tsk: tsk[0] + tsk[1], containerd: cpuSeconds(Number(args['containerd-pid'])), shims, machine: machineJiffies() };
}

function rssNow(): Rss {
  const shims = [...cpuSnapshot().shims.keys()].map(rssKb);
  return { tsk: rssKb(Number(args['tsk-pid'])), containerd: rssKb(Number(args['containerd-pid'])), shims: shims.reduce((a, b) => a + b, 0), shimCount: shims.length };
}

function cpuSince(before: ReturnType<typeof cpuSnapshot>): Cpu {
  const now = cpuSnapshot();
  let shim = 0;
  let runc = 0;
  for (const [pid, [own, kids]] of now.shims) {
    const b = before.shims.get(pid) ?? [0, 0];
    shim += own - b[0];
    runc += kids - b[1];
  }
  const containerd = now.containerd[0] - before.containerd[0];
  const cni = now.containerd[1] - before.containerd[1];
  const machineBusy = (now.machine[0] - before.machine[0]) / Math.max(1, now.machine[1] - before.machine[1]);
  return { runtime: containerd + cni + shim + runc, containerd, cni, shim, runc, tsk: now.tsk - before.tsk, machineBusy };
}

const epoch = () => performance.timeOrigin + performance.now();

type Pod = KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string } };

/**
 * Creates n pods in namespace bench-<label>: all at once (gapMs 0), one per gapMs, or (gapMs < 0) each one -gapMs
 * after the previous one runs. The namespace is deleted afterwards unless keep is set.
 */
async function round(client: HttpsClient, label: string, n: number, gapMs: number, keep = false): Promise<RoundResult> {
  const ns = `bench-${label}`;
  await client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await waitFor('default service account', () => client.get(core('serviceaccounts'), 'default', ns).then(() => true), 60_000);
  const start = new Map<string, number>();
  const scheduled = new Map<string, number>();
  const running = new Map<string, number>();
  const watch = await client.watch<Pod>(core('pods'), { namespace: ns });
  let cpu: Cpu = { runtime: 0, containerd: 0, cni: 0, shim: 0, runc: 0, tsk: 0, machineBusy: 0 };
  const cpuBefore = cpuSnapshot();
  const consumed = (async () => {
    for await (const ev of watch) {
      const now = epoch();
      const name = ev.object.metadata?.name ?? '';
      if (ev.object.spec?.nodeName && !scheduled.has(name)) scheduled.set(name, now);
      if (ev.object.status?.phase === 'Running' && !running.has(name)) {
        running.set(name, now);
        if (running.size === n) cpu = cpuSince(cpuBefore);
      }
    }
  })().catch(() => undefined);
  const pod = (name: string): Pod => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
    } as Pod['spec'],
  });
  const t0 = epoch();
  const create = async (i: number) => {
    const name = `p${i}`;
    start.set(name, epoch());
    await client.create(core('pods'), pod(name), ns);
  };
  if (gapMs === 0) {
    await Promise.all(Array.from({ length: n }, (_, i) => create(i)));
  } else if (gapMs < 0) {
    for (let i = 0; i < n; i++) {
      await create(i);
      const deadline = Date.now() + 60_000;
      while (!running.has(`p${i}`) && Date.now() < deadline) await sleep(5);
      await sleep(-gapMs);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const due = t0 + i * gapMs;
      if (due > epoch()) await sleep(due - epoch());
      await create(i);
    }
  }
  const deadline = Date.now() + 180_000;
  while (running.size < n && Date.now() < deadline) await sleep(50);
  const wallMs = epoch() - t0;
  watch.close();
  await consumed;
  const lat = (m: Map<string, number>) => [...m.entries()].filter(([k]) => start.has(k)).map(([k, v]) => v - start.get(k)!);
  const warnings: Record<string, number> = {};
  const events = await client.list<KubeObject & { type?: string; reason?: string; message?: string; count?: number }>(core('events'), { namespace: ns }).catch(() => ({ items: [] }));
  for (const e of events.items) {
    if (e.type !== 'Warning') continue;
    const k = `${e.reason}: ${e.message}`;
    warnings[k] = (warnings[k] ?? 0) + (e.count ?? 1);
  }
  const pods: RoundResult['pods'] = {};
  for (const [k, v] of start) pods[k] = { created: v, scheduled: scheduled.get(k), running: running.get(k) };
  const result = { label, created: start.size, running: running.size, toScheduled: lat(scheduled), toRunning: lat(running), wallMs, warnings, pods, cpu, rss: rssNow() };
  if (keep) return result;
  // Remove the pods and wait until the node has stopped them, so the next round starts from an idle node.
  await client.delete(core('namespaces'), ns).catch(() => undefined);
  await waitFor('namespace gone', () => client.get(core('namespaces'), ns).then(() => false, () => true), 180_000, 500).catch(() => undefined);
  return result;
}

async function worker(): Promise<void> {
  const client = new HttpsClient(optionsFromKubeconfig(args.kubeconfig!));
  // A warm-up pod: the first sandbox on a node also creates the bridge and imports nothing more, so measure after it.
  const warm = await round(client, 'warmup', 1, 0);
  const burst = await round(client, 'burst', N, 0, true);
  const latency = LATENCY > 0 ? [await round(client, 'latency', LATENCY, -200)] : [];
  await client.delete(core('namespaces'), 'bench-burst').catch(() => undefined);
  await waitFor('namespace gone', () => client.get(core('namespaces'), 'bench-burst').then(() => false, () => true), 180_000, 500).catch(() => undefined);
  // The node tears the 60 pods down after their namespaces are gone (CNI DEL, shims exiting): wait for that, so the
  // paced round does not share the CPU with it.
  await waitFor('previous pods torn down', () => cpuSnapshot().shims.size === 0, 180_000, 500).catch(() => undefined);
  const paced = args['no-paced'] ? [] : [await round(client, 'paced', N, GAP)];
  await writeResult([warm, burst, ...latency, ...paced]);
}

/** Per-pod phase durations of a round from the kubelet's log lines (first occurrence per pod) and the watch times. */
function phases(log: string, r: RoundResult): Record<'bound' | 'toSandbox' | 'sandbox' | 'toStarted' | 'toRunning', number[]> {
  const at = new Map<string, Map<string, number>>();
  for (const line of log.split('\n')) {
    if (!line.startsWith('{') || !line.includes(`"bench-${r.label}/`)) continue;
    try {
      const o = JSON.parse(line) as { msg: string; time: number; pod: string };
      const m = at.get(o.msg) ?? new Map<string, number>();
      if (!m.has(o.pod)) m.set(o.pod, o.time);
      at.set(o.msg, m);
    } catch { /* partial line */ }
  }
  const out = { bound: [] as number[], toSandbox: [] as number[], sandbox: [] as number[], toStarted: [] as number[], toRunning: [] as number[] };
  const push = (k: keyof typeof out, a?: number, b?: number) => { if (a !== undefined && b !== undefined) out[k].push(b - a); };
  for (const [name, p] of Object.entries(r.pods ?? {})) {
    const key = `bench-${r.label}/${name}`;
    const t = (msg: string) => at.get(msg)?.get(key);
    push('bound', p.created, p.scheduled);
    push('toSandbox', p.scheduled, t('creating sandbox'));
    push('sandbox', t('creating sandbox'), t('sandbox created'));
    push('toStarted', t('sandbox created'), t('container started'));
    push('toRunning', t('container started'), p.running);
  }
  return out;
}

if (args.worker) {
  await worker();
  process.exit(0);
}

if (args.binary) useBinary(resolve(args.binary));

await runBench(async (c) => {
  const netns = createNetns(c, '10.199.62.2');
  const dataDir = tempDir(c, 'tsk-bench-pods-');
  seedImages(dataDir);
  const t0 = Date.now();
  const server = await startServer(c, { netns, dataDir, nodeName: 'bench-pods', args: ['--node-ip', '10.199.62.2', '--log-format', 'json'] });
  await waitFor('node Ready', () => kubectl(server, ['get', 'node', 'bench-pods', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']).stdout === 'True', 150_000);
  const tReady = Date.now();
  let log = server.log();
  const cpReady = logTimes(log, 'control plane ready')[0];
  const cdReady = logTimes(log, 'containerd ready')[0];
  const nodeReady = logTimes(log, 'node ready')[0];

  const pidArgs = ['--tsk-pid', String(server.child.pid), '--containerd-pid', String(containerdPid(dataDir) ?? 0), '--containerd-sock', join(dataDir, 'agent/containerd/containerd.sock')];
  const rounds = await runWorker(netns, import.meta.filename, ['--worker', '--kubeconfig', server.kubeconfig, '--n', String(N), '--gap', String(GAP), '--latency', String(LATENCY), ...pidArgs, ...(args['no-paced'] ? ['--no-paced'] : [])]) as RoundResult[];
  log = server.log();
  if (args.log) writeFileSync(args.log, log);

  console.log(`\npod create -> Running on one node (busybox present), N=${N}\n`);
  printTable([
    ['round', 'pods', 'Running', 'sched p50 ms', 'sched p99 ms', 'Running p50 ms', 'Running p99 ms', 'max ms', 'wall s', 'pods/s'],
    ...rounds.map((r) => [
      r.label === 'paced' ? `paced (1/${GAP} ms)` : r.label === 'latency' ? `latency (1 at a time, ${N} running)` : r.label, String(r.created), String(r.running),
      percentile(r.toScheduled, 50), percentile(r.toScheduled, 99), percentile(r.toRunning, 50), percentile(r.toRunning, 99),
      Math.max(...r.toRunning), r.wallMs / 1000, r.running / (r.wallMs / 1000),
    ]),
  ]);
  console.log('\nper phase (watch times and kubelet log times), ms: p50 / p99\n');
  printTable([
    ['round', 'create->bound', 'bound->sandbox start', 'RunPodSandbox', 'sandbox->container started', 'started->Running seen'],
    ...rounds.map((r) => {
      const ph = phases(log, r);
      const pp = (v: number[]) => `${percentile(v, 50).toFixed(0)} / ${percentile(v, 99).toFixed(0)}`;
      return [r.label, pp(ph.bound), pp(ph.toSandbox), pp(ph.sandbox), pp(ph.toStarted), pp(ph.toRunning)];
    }),
  ]);
  console.log('\nCPU-seconds per pod, first create -> last Running (load-independent, unlike the times above)\n');
  printTable([
    ['round', 'runtime', 'containerd', 'CNI + shim start', 'shims', 'runc', 'tsk', 'machine busy'],
    ...rounds.map((r) => [r.label, ...[r.cpu.runtime, r.cpu.containerd, r.cpu.cni, r.cpu.shim, r.cpu.runc, r.cpu.tsk].map((v) => (v / r.created).toFixed(3)), `${(r.cpu.machineBusy * 100).toFixed(0)} %`]),
  ]);
  const mb = (kb: number) => (kb / 1024).toFixed(1);
  console.log(`\nRSS, MB, with the round's pods running (the latency round: with the burst's ${N} pods too)\n`);
  printTable([
    ['round', 'tsk', 'containerd', 'shims (sum)', 'shims', 'per shim'],
    ...rounds.filter((r) => r.rss).map((r) => [r.label, mb(r.rss!.tsk), mb(r.rss!.containerd), mb(r.rss!.shims), String(r.rss!.shimCount), mb(r.rss!.shims / Math.max(1, r.rss!.shimCount))]),
  ]);
  console.log('\nstartup (server log times)\n');
  printTable([
    ['phase', 's'],
    ['process start -> control plane ready', cpReady ? (cpReady - t0) / 1000 : NaN],
    ['process start -> containerd ready', cdReady ? (cdReady - t0) / 1000 : NaN],
    ['containerd ready -> node ready', cdReady && nodeReady ? (nodeReady - cdReady) / 1000 : NaN],
    ['process start -> Ready seen by kubectl poll', (tReady - t0) / 1000],
  ]);
  const burst = rounds.find((r) => r.label === 'burst')!;
  const paced = rounds.find((r) => r.label === 'paced') ?? { toRunning: [] };
  const latency = rounds.find((r) => r.label === 'latency') ?? { toRunning: [] };
  const incomplete = rounds.filter((r) => r.running < r.created);
  console.log('\nbudgets\n');
  printTable([
    ['budget', 'measured', 'budget', 'ratio', ''],
    budgetRow(`pod create -> Running p99, latency pods (SLO method, ${N} running)`, percentile(latency.toRunning, 99) / 1000, 1, 's'),
    budgetRow(`pod create -> Running p99, paced 1/${GAP} ms`, percentile(paced.toRunning, 99) / 1000, 1, 's'),
    budgetRow(`pod create -> Running p99, burst of ${N}`, percentile(burst.toRunning, 99) / 1000, 1, 's'),
    budgetRow('pod startup p99 (Kubernetes SLO), burst', percentile(burst.toRunning, 99) / 1000, 5, 's'),
    ...(cdReady ? [budgetRow(`containerd ready -> node Ready (${nodeReady ? 'log' : 'kubectl poll'})`, ((nodeReady ?? tReady) - cdReady) / 1000, 3, 's')] : []),
  ]);
  for (const r of rounds) {
    for (const [k, n] of Object.entries(r.warnings ?? {})) console.log(`warning events (${r.label}): ${n} x ${k}`);
  }
  if (incomplete.length) console.log(`\nWARNING: pods not Running within 180 s: ${incomplete.map((r) => `${r.label} ${r.running}/${r.created}`).join(', ')}`);
});
