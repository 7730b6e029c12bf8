// Control plane at scale: `tsk server --disable-agent --sim-nodes 100` (a child process), then deployments totalling
// 3,000 pods created at once. Reports pods bound per second (first watch event with spec.nodeName), time until all
// are Running on the simulated nodes, and the server's RSS (current and peak) and CPU time from /proc.
// Goals (issue 7): >= 100 pods/s bound, RSS <= 400 MB with 3,000 pods on 100 nodes.
//
//   npm run bench:scale [-- --nodes 100 --deployments 30 --replicas 100 --cpu-prof /tmp/prof --binary dist/tsk]
// On a busy machine the wall-clock rates understate the server: see "pods bound per server CPU second".
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HttpsClient, optionsFromKubeconfig } from '../lib/client/https.ts';
import { apps, core, type KubeObject } from '../lib/client/types.ts';
import { startServer, useBinary, waitFor } from '../test/harness.ts';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    deployments: { type: 'string', default: '30' },
    replicas: { type: 'string', default: '100' },
    timeout: { type: 'string', default: '600' },
    /** Write a V8 CPU profile of the server to this directory (on exit). */
    'cpu-prof': { type: 'string' },
    /** Run this executable (e.g. dist/tsk, which starts with its own V8 flags) instead of the source. */
    binary: { type: 'string' },
  },
});
const NODES = Number(args.nodes);
const DEPLOYMENTS = Number(args.deployments);
const REPLICAS = Number(args.replicas);
const TOTAL = DEPLOYMENTS * REPLICAS;
if (args.binary) useBinary(resolve(args.binary));

const teardowns: (() => unknown)[] = [];
const t = { teardown: (fn: () => unknown) => { teardowns.push(fn); } };

const TICK = 100; // USER_HZ
function procStats(pid: number): { rssMb: number; peakMb: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024, cpuS: (Number(f[11]) + Number(f[12])) / TICK };
}

type Pod = KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string } };

async function main(): Promise<void> {
  const t0 = performance.now();
  const env = args['cpu-prof'] ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${args['cpu-prof']}` } : undefined;
  const server = await startServer(t, { disableAgent: true, keepPods: true, env, args: ['--sim-nodes', String(NODES)] });
  const pid = server.child.pid!;
  const client = new HttpsClient(optionsFromKubeconfig(server.kubeconfig));
  await waitFor(`${NODES} simulated nodes`, async () => (await client.list(core('nodes'))).items.length === NODES, 120_000);
  await waitFor('default service account', () => client.get(core('serviceaccounts'), 'default', 'default').then(() => true), 60_000);
  console.log(`server up with ${NODES} simulated nodes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const idle = procStats(pid);

  const bound = new Map<string, number>();
  const running = new Map<string, number>();
  let lastEvent = 0;
  const watch = await client.watch<Pod>(core('pods'), { namespace: 'default' });
  void (async () => {
    for await (const ev of watch) {
      const now = performance.now();
      lastEvent = now;
      const name = ev.object.metadata?.name ?? '';
      if (ev.object.spec?.nodeName && !bound.has(name)) bound.set(name, now);
      if (ev.object.status?.phase === 'Running' && !running.has(name)) running.set(name, now);
    }
  })().catch(() => undefined);

  let peakRss = idle.rssMb;
  const sampler = setInterval(() => { try { peakRss = Math.max(peakRss, procStats(pid).rssMb); } catch { /* exited */ } }, 500);
  const start = performance.now();
  const cpu0 = procStats(pid).cpuS;
  await Promise.all(Array.from({ length: DEPLOYMENTS }, (_, i) => client.create(apps('deployments'), {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `scale-${i}` },
    spec: {
      replicas: REPLICAS, selector: { matchLabels: { app: `scale-${i}` } },
      template: { metadata: { labels: { app: `scale-${i}` } }, spec: { containers: [{ name: 'c', image: 'busybox:latest', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
    },
  }, 'default')));
  let lastReport = 0;
  await waitFor(`${TOTAL} pods Running`, () => {
    const now = performance.now();
    if (now - lastReport > 5000) {
      lastReport = now;
      console.log(`  t=${((now - start) / 1000).toFixed(0)} s bound ${bound.size} running ${running.size} rss ${procStats(pid).rssMb.toFixed(0)} MB`);
    }
    return running.size >= TOTAL;
  }, Number(args.timeout) * 1000, 500);
  const end = performance.now();
  const cpu1 = procStats(pid).cpuS;
  // Settle: let controllers finish status writes, then measure steady-state memory.
  await new Promise((r) => setTimeout(r, 5000));
  const settled = procStats(pid);
  clearInterval(sampler);
  watch.close();

  const boundTimes = [...bound.values()].sort((a, b) => a - b);
  const firstBound = boundTimes[0]! - start;
  const lastBound = boundTimes[boundTimes.length - 1]! - start;
  const rate = TOTAL / (lastBound / 1000);
  const rows: [string, string, string][] = [
    ['pods bound / s (create -> last bound)', rate.toFixed(0), '>= 100'],
    ['pods Running per server CPU second (load-independent)', (TOTAL / (cpu1 - cpu0)).toFixed(0), ''],
    ['first pod bound (s)', (firstBound / 1000).toFixed(1), ''],
    ['all pods bound (s)', (lastBound / 1000).toFixed(1), ''],
    ['all pods Running (s)', ((end - start) / 1000).toFixed(1), ''],
    ['server RSS idle, 100 nodes (MB)', idle.rssMb.toFixed(0), ''],
    ['server RSS peak during run (MB)', Math.max(peakRss, settled.peakMb).toFixed(0), '<= 400'],
    ['server RSS settled, all Running (MB)', settled.rssMb.toFixed(0), '<= 400'],
    ['server CPU during run (s / % of one core)', `${(cpu1 - cpu0).toFixed(1)} / ${((cpu1 - cpu0) / ((end - start) / 1000) * 100).toFixed(0)}%`, ''],
  ];
  console.log(`\n${NODES} simulated nodes, ${DEPLOYMENTS} deployments x ${REPLICAS} = ${TOTAL} pods (last watch event ${((lastEvent - start) / 1000).toFixed(1)} s)`);
  console.log('| measure | value | goal |\n|---|---|---|');
  for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
}

try {
  await main();
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
process.exit(0);
