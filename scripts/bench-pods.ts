// Pod startup latency on one node, vs the budget (create -> Running p99 <= 1 s with the image present) and the
// Kubernetes SLO (pod startup p99 <= 5 s), in one run: `tsk server` with its node in its own network namespace, the
// busybox image seeded; N pods created at once (burst) and then N created one per --gap ms (paced). Latency is
// measured by a worker inside the namespace with the HTTPS client: from just before the create request to the first
// watch event showing phase Running (and spec.nodeName for scheduling). Also start -> node Ready from the server log.
// Needs root, containerd, runc, kubectl. Everything started is stopped by PID, the node with `tsk killall`.
//
//   npm run bench:pods [-- --n 30 --gap 200 --binary dist/tsk]
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HttpsClient, optionsFromKubeconfig } from '../lib/client/https.ts';
import { core, type KubeObject } from '../lib/client/types.ts';
import { createNetns, kubectl, startServer, tempDir, useBinary, waitFor } from '../test/harness.ts';
import { budgetRow, logTimes, percentile, printTable, writeResult, runBench, runWorker, seedImages, sleep } from './bench-common.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '30' },
    gap: { type: 'string', default: '200' },
    binary: { type: 'string' },
    worker: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    /** Write the server's log (JSON lines) to this file. */
    log: { type: 'string' },
  },
});
const N = Number(args.n);
const GAP = Number(args.gap);

interface RoundResult {
  label: string;
  created: number;
  running: number;
  toScheduled: number[];
  toRunning: number[];
  wallMs: number;
  /** Warning events of the round's namespace by reason and message, e.g. FailedScheduling (count). */
  warnings: Record<string, number>;
}

type Pod = KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string } };

async function round(client: HttpsClient, label: string, n: number, gapMs: number): Promise<RoundResult> {
  const ns = `bench-${label}`;
  await client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await waitFor('default service account', () => client.get(core('serviceaccounts'), 'default', ns).then(() => true), 60_000);
  const start = new Map<string, number>();
  const scheduled = new Map<string, number>();
  const running = new Map<string, number>();
  const watch = await client.watch<Pod>(core('pods'), { namespace: ns });
  const consumed = (async () => {
    for await (const ev of watch) {
      const now = performance.now();
      const name = ev.object.metadata?.name ?? '';
      if (ev.object.spec?.nodeName && !scheduled.has(name)) scheduled.set(name, now);
      if (ev.object.status?.phase === 'Running' && !running.has(name)) running.set(name, now);
    }
  })().catch(() => undefined);
  const pod = (name: string): Pod => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
    } as Pod['spec'],
  });
  const t0 = performance.now();
  const create = async (i: number) => {
    const name = `p${i}`;
    start.set(name, performance.now());
    await client.create(core('pods'), pod(name), ns);
  };
  if (gapMs <= 0) {
    await Promise.all(Array.from({ length: n }, (_, i) => create(i)));
  } else {
    for (let i = 0; i < n; i++) {
      const due = t0 + i * gapMs;
      if (due > performance.now()) await sleep(due - performance.now());
      await create(i);
    }
  }
  const deadline = Date.now() + 180_000;
  while (running.size < n && Date.now() < deadline) await sleep(50);
  const wallMs = performance.now() - t0;
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
  const result = { label, created: start.size, running: running.size, toScheduled: lat(scheduled), toRunning: lat(running), wallMs, warnings };
  // Remove the pods and wait until the node has stopped them, so the next round starts from an idle node.
  await client.delete(core('namespaces'), ns).catch(() => undefined);
  await waitFor('namespace gone', () => client.get(core('namespaces'), ns).then(() => false, () => true), 180_000, 500).catch(() => undefined);
  return result;
}

async function worker(): Promise<void> {
  const client = new HttpsClient(optionsFromKubeconfig(args.kubeconfig!));
  // A warm-up pod: the first sandbox on a node also creates the bridge and imports nothing more, so measure after it.
  const warm = await round(client, 'warmup', 1, 0);
  const burst = await round(client, 'burst', N, 0);
  const paced = await round(client, 'paced', N, GAP);
  await writeResult([warm, burst, paced]);
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
  const log = server.log();
  const cpReady = logTimes(log, 'control plane ready')[0];
  const cdReady = logTimes(log, 'containerd ready')[0];
  const nodeReady = logTimes(log, 'node ready')[0];

  const rounds = await runWorker(netns, import.meta.filename, ['--worker', '--kubeconfig', server.kubeconfig, '--n', String(N), '--gap', String(GAP)]) as RoundResult[];
  if (args.log) writeFileSync(args.log, server.log());

  console.log(`\npod create -> Running on one node (busybox present), N=${N}\n`);
  printTable([
    ['round', 'pods', 'Running', 'sched p50 ms', 'sched p99 ms', 'Running p50 ms', 'Running p99 ms', 'max ms', 'wall s', 'pods/s'],
    ...rounds.map((r) => [
      r.label === 'paced' ? `paced (1/${GAP} ms)` : r.label, String(r.created), String(r.running),
      percentile(r.toScheduled, 50), percentile(r.toScheduled, 99), percentile(r.toRunning, 50), percentile(r.toRunning, 99),
      Math.max(...r.toRunning), r.wallMs / 1000, r.running / (r.wallMs / 1000),
    ]),
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
  const paced = rounds.find((r) => r.label === 'paced')!;
  const incomplete = rounds.filter((r) => r.running < r.created);
  console.log('\nbudgets\n');
  printTable([
    ['budget', 'measured', 'budget', 'ratio', ''],
    budgetRow(`pod create -> Running p99, paced`, percentile(paced.toRunning, 99) / 1000, 1, 's'),
    budgetRow(`pod create -> Running p99, burst of ${N}`, percentile(burst.toRunning, 99) / 1000, 1, 's'),
    budgetRow('pod startup p99 (Kubernetes SLO), burst', percentile(burst.toRunning, 99) / 1000, 5, 's'),
    ...(cdReady ? [budgetRow(`containerd ready -> node Ready (${nodeReady ? 'log' : 'kubectl poll'})`, ((nodeReady ?? tReady) - cdReady) / 1000, 3, 's')] : []),
  ]);
  for (const r of rounds) {
    for (const [k, n] of Object.entries(r.warnings ?? {})) console.log(`warning events (${r.label}): ${n} x ${k}`);
  }
  if (incomplete.length) console.log(`\nWARNING: pods not Running within 180 s: ${incomplete.map((r) => `${r.label} ${r.running}/${r.created}`).join(', ')}`);
});
