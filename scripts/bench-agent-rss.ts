// Idle RSS and CPU of `tsk agent` (and of the control-plane server it joins), the agent half of bench:idle in a
// shorter form for trying memory changes: a control-plane-only server and one agent in two network namespaces on one
// bridge; after the agent's node is Ready and a warm-up, RSS (VmRSS, and the V8 heap from /proc smaps is not read)
// and CPU seconds (utime+stime from /proc/<pid>/stat) of both processes over a window.
// Needs root, containerd, runc, kubectl.
//
// With --pods N, N busybox pods are then started on the agent's node: agent CPU seconds until all run, and RSS after.
//
//   npm run bench:agent [-- --binary dist/tsk --warmup 30 --window 30 --pods 10 --node-options '--max-semi-space-size=1']
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createNetworkOfNodes, kubectl, startAgent, startServer, tempDir, useBinary, waitFor } from '../test/harness.ts';
import { cpuSeconds, fmt, printTable, rssKb, runBench, seedImages, sleep } from './bench-common.ts';

const { values: args } = parseArgs({
  options: {
    warmup: { type: 'string', default: '30' },
    window: { type: 'string', default: '30' },
    pods: { type: 'string', default: '0' },
    /** Run this executable (e.g. dist/tsk from `npm run build`) instead of `node cmd/tsk.ts`. */
    binary: { type: 'string' },
    /** NODE_OPTIONS for the agent only, e.g. '--max-semi-space-size=1'. */
    'node-options': { type: 'string' },
    /** Extra environment for the agent, KEY=VALUE, comma-separated (e.g. UV_THREADPOOL_SIZE=1). */
    env: { type: 'string' },
  },
});
if (args.binary) useBinary(resolve(args.binary));
const WARMUP_S = Number(args.warmup);
const WINDOW_S = Number(args.window);
const agentEnv: NodeJS.ProcessEnv = {};
if (args['node-options']) agentEnv.NODE_OPTIONS = args['node-options'];
for (const kv of (args.env ?? '').split(',').filter(Boolean)) {
  const i = kv.indexOf('=');
  agentEnv[kv.slice(0, i)] = kv.slice(i + 1);
}

/** Anonymous (private, process-owned) memory in KiB; the rest of RSS is mostly the executable's file pages. */
function anonKb(pid: number): number {
  try {
    return Number(/^Anonymous:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

function threads(pid: number): number {
  try {
    return Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

function nodeReady(proc: Parameters<typeof kubectl>[0], node: string): boolean {
  return kubectl(proc, ['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']).stdout === 'True';
}

await runBench(async (c) => {
  const { namespaces, addresses } = createNetworkOfNodes(c, 2, 62);
  const cpDir = tempDir(c, 'tsk-bench-cp-');
  const cp = await startServer(c, { netns: namespaces[0], dataDir: cpDir, nodeName: 'bench-cp', disableAgent: true, keepPods: true, args: ['--node-ip', addresses[0]!] });
  const token = readFileSync(join(cpDir, 'server/token'), 'utf8').trim();
  const agentDir = tempDir(c, 'tsk-bench-agent-');
  seedImages(agentDir);
  const t0 = Date.now();
  const agent = startAgent(c, {
    server: `https://${addresses[0]}:${cp.port}`, token, nodeName: 'bench-agent', netns: namespaces[1], dataDir: agentDir,
    args: ['--node-ip', addresses[1]!], env: Object.keys(agentEnv).length ? agentEnv : undefined,
  });
  await waitFor('agent node Ready', () => nodeReady(cp, 'bench-agent'), 150_000);
  const readyS = (Date.now() - t0) / 1000;
  const pids = { server: cp.child.pid!, agent: agent.child.pid! };
  const startCpu = { server: cpuSeconds(pids.server), agent: cpuSeconds(pids.agent) };
  console.error(`agent Ready after ${fmt(readyS)} s (agent CPU so far ${fmt(startCpu.agent, 2)} s); warm-up ${WARMUP_S} s ...`);
  await sleep(WARMUP_S * 1000);
  const cpu0 = { server: cpuSeconds(pids.server), agent: cpuSeconds(pids.agent) };
  const samples = { server: [] as number[], agent: [] as number[] };
  const until = Date.now() + WINDOW_S * 1000;
  while (Date.now() < until) {
    samples.server.push(rssKb(pids.server));
    samples.agent.push(rssKb(pids.agent));
    await sleep(2000);
  }
  const cpu1 = { server: cpuSeconds(pids.server), agent: cpuSeconds(pids.agent) };
  const mb = (kb: number) => fmt(kb / 1024);
  const last = (a: number[]) => a[a.length - 1] ?? NaN;
  printTable([
    ['process', 'RSS MB (last)', 'RSS MB (max)', 'anonymous MB', 'CPU s to Ready', 'idle CPU ms/s', 'threads'],
    ['tsk agent', mb(last(samples.agent)), mb(Math.max(...samples.agent)), mb(anonKb(pids.agent)), fmt(startCpu.agent, 2), fmt(((cpu1.agent - cpu0.agent) / WINDOW_S) * 1000, 1), String(threads(pids.agent))],
    ['tsk server (control plane)', mb(last(samples.server)), mb(Math.max(...samples.server)), mb(anonKb(pids.server)), '-', fmt(((cpu1.server - cpu0.server) / WINDOW_S) * 1000, 1), String(threads(pids.server))],
  ]);
  const PODS = Number(args.pods);
  if (PODS > 0) {
    const c0 = cpuSeconds(pids.agent);
    const t1 = Date.now();
    for (let i = 0; i < PODS; i++) {
      kubectl(cp, ['run', `bench-${i}`, '--image=busybox:latest', '--restart=Never', '--overrides={"spec":{"nodeName":"bench-agent"}}', '--', 'sleep', '3600']);
    }
    await waitFor(`${PODS} pods Running`, () => kubectl(cp, ['get', 'pods', '-o', 'jsonpath={.items[*].status.phase}']).stdout.split(' ').filter((p) => p === 'Running').length === PODS, 300_000, 1000);
    const cpu = cpuSeconds(pids.agent) - c0;
    await sleep(10_000);
    printTable([
      ['pods', 'wall s', 'agent CPU s', 'agent CPU s per pod', 'agent RSS MB after', 'anonymous MB'],
      [String(PODS), fmt((Date.now() - t1) / 1000 - 10), fmt(cpu, 2), fmt(cpu / PODS, 3), mb(rssKb(pids.agent)), mb(anonKb(pids.agent))],
    ]);
  }
  console.log(JSON.stringify({ agentRssMb: last(samples.agent) / 1024, agentAnonMb: anonKb(pids.agent) / 1024, serverRssMb: last(samples.server) / 1024, agentCpuToReadyS: startCpu.agent, readyS }));
});
