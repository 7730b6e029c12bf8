// API latency and throughput of `tsk server` over HTTPS, side by side in one run: the real kubectl (one process per
// call, as users and scripts run it) vs the direct HTTPS client (lib/client/https.ts, keep-alive) on the same
// server; creates, gets and lists of ConfigMaps, concurrent creates, and watch fan-out (W watchers, each its own
// connection, receiving every create). Compared with the Kubernetes SIG-scalability SLOs (mutating and get p99
// <= 1 s, namespace-scoped list p99 <= 5 s) since no k3s is available here to run alongside. The server runs
// control-plane only (--disable-agent) in its own network namespace; the measuring worker runs inside it.
//
//   npm run bench:api [-- --n 300 --concurrency 16 --kubectl 30 --watchers 100 --events 100 --binary dist/tsk]
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HttpsClient, optionsFromKubeconfig } from '../lib/client/https.ts';
import { core, type KubeObject } from '../lib/client/types.ts';
import { KUBECTL, createNetns, startServer, tempDir, useBinary } from '../test/harness.ts';
import { budgetRow, percentile, printTable, writeResult, rssKb, runBench, runWorker } from './bench-common.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '16' },
    kubectl: { type: 'string', default: '30' },
    watchers: { type: 'string', default: '100' },
    events: { type: 'string', default: '100' },
    binary: { type: 'string' },
    worker: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    'cache-dir': { type: 'string' },
  },
});
const N = Number(args.n);
const C = Number(args.concurrency);
const K = Number(args.kubectl);
const W = Number(args.watchers);
const E = Number(args.events);

interface Series {
  name: string;
  via: 'kubectl' | 'client';
  ms: number[];
  /** Wall time of the whole series (for requests/s). */
  wallMs: number;
}

const cm = (name: string, ns: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { v: 'x'.repeat(1024) } });

async function timed(name: string, via: Series['via'], count: number, fn: (i: number) => Promise<void> | void): Promise<Series> {
  console.error(`${name} via ${via} x${count}`);
  const ms: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    await fn(i);
    ms.push(performance.now() - s);
  }
  return { name, via, ms, wallMs: performance.now() - t0 };
}

async function concurrent(name: string, count: number, clients: number, fn: (i: number) => Promise<void>): Promise<Series> {
  console.error(`${name} x${count}`);
  const ms: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < count) {
      const i = next++;
      const s = performance.now();
      await fn(i);
      ms.push(performance.now() - s);
    }
  }));
  return { name, via: 'client', ms, wallMs: performance.now() - t0 };
}

async function worker(): Promise<void> {
  const opts = optionsFromKubeconfig(args.kubeconfig!);
  const client = new HttpsClient(opts);
  const ns = 'bench-api';
  await client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  // Asynchronous, so that the event loop keeps handling the client's keep-alive sockets (a blocked loop reuses a
  // socket the server has already closed: ECONNRESET on the next request).
  const kube = (a: string[], input?: string) => new Promise<void>((resolve, reject) => {
    const child = spawn(KUBECTL, ['--kubeconfig', args.kubeconfig!, '--cache-dir', args['cache-dir']!, ...a], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`kubectl ${a.join(' ')}: ${err}`));
    });
    child.stdin.end(input ?? '');
  });
  await kube(['get', 'ns', ns]); // fills kubectl's discovery cache, as on a user's machine after the first call
  const series: Series[] = [];
  series.push(await timed('create configmap', 'client', N, (i) => client.create(core('configmaps'), cm(`c${i}`, ns), ns).then(() => undefined)));
  series.push(await timed('create configmap', 'kubectl', K, (i) => kube(['create', '-f', '-'], JSON.stringify(cm(`k${i}`, ns)))));
  series.push(await timed('get configmap', 'client', N, (i) => client.get(core('configmaps'), `c${i}`, ns).then(() => undefined)));
  series.push(await timed('get configmap', 'kubectl', K, (i) => kube(['get', 'configmap', `c${i}`, '-n', ns, '-o', 'json'])));
  const listN = Math.max(10, Math.floor(N / 10));
  series.push(await timed(`list ${N + K} configmaps`, 'client', listN, () => client.list(core('configmaps'), { namespace: ns }).then(() => undefined)));
  series.push(await timed(`list ${N + K} configmaps`, 'kubectl', Math.max(5, Math.floor(K / 3)), () => kube(['get', 'configmaps', '-n', ns, '-o', 'json'])));
  series.push(await timed('update configmap', 'client', N, async (i) => {
    const o = await client.get<KubeObject & { data: Record<string, string> }>(core('configmaps'), `c${i}`, ns);
    o.data.v = 'y'.repeat(1024);
    await client.update(core('configmaps'), o);
  }));
  series.push(await concurrent(`create configmap x${C} clients`, N * 2, C, (i) => client.create(core('configmaps'), cm(`cc${i}`, ns), ns).then(() => undefined)));
  series.push(await concurrent(`get configmap x${C} clients`, N * 2, C, (i) => client.get(core('configmaps'), `cc${i}`, ns).then(() => undefined)));

  // Watch fan-out: W watchers (own connection each) on a namespace; E creates one after another; delivery latency
  // from just before each create to each watcher's event.
  console.error(`watch fan-out: ${W} watchers x ${E} creates`);
  const wns = 'bench-watch';
  await client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: wns } });
  const sent = new Map<string, number>();
  const delivery: number[] = [];
  let received = 0;
  const watchers = await Promise.all(Array.from({ length: W }, async () => {
    const c = new HttpsClient(opts);
    const w = await c.watch(core('configmaps'), { namespace: wns });
    const done = (async () => {
      for await (const ev of w) {
        const t = performance.now();
        const s = sent.get(ev.object.metadata?.name ?? '');
        if (ev.type === 'ADDED' && s !== undefined) { delivery.push(t - s); received++; }
      }
    })().catch(() => undefined);
    return { w, done };
  }));
  const tw0 = performance.now();
  for (let i = 0; i < E; i++) {
    sent.set(`w${i}`, performance.now());
    await client.create(core('configmaps'), cm(`w${i}`, wns), wns);
  }
  const deadline = Date.now() + 60_000;
  while (received < W * E && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const fanWall = performance.now() - tw0;
  for (const { w } of watchers) w.close();
  await Promise.all(watchers.map((x) => x.done));
  await writeResult({ series, watch: { watchers: W, events: E, expected: W * E, received, delivery, wallMs: fanWall } });
}

if (args.worker) {
  await worker();
  process.exit(0);
}

if (args.binary) useBinary(resolve(args.binary));

await runBench(async (c) => {
  const netns = createNetns(c, '10.199.63.2');
  const dataDir = tempDir(c, 'tsk-bench-api-');
  const server = await startServer(c, { netns, dataDir, nodeName: 'bench-api', disableAgent: true, keepPods: true, args: ['--node-ip', '10.199.63.2'] });
  const rss0 = rssKb(server.child.pid!);
  const r = await runWorker(netns, import.meta.filename, ['--worker', '--kubeconfig', server.kubeconfig, '--cache-dir', join(dataDir, '.kube-cache'),
    '--n', String(N), '--concurrency', String(C), '--kubectl', String(K), '--watchers', String(W), '--events', String(E)]) as {
    series: Series[]; watch: { watchers: number; events: number; expected: number; received: number; delivery: number[]; wallMs: number };
  };
  const rss1 = rssKb(server.child.pid!);

  console.log(`\nAPI over HTTPS, tsk server control plane only (RSS ${(rss0 / 1024).toFixed(0)} MB before, ${(rss1 / 1024).toFixed(0)} MB after)\n`);
  printTable([
    ['operation', 'via', 'n', 'p50 ms', 'p99 ms', 'max ms', 'req/s'],
    ...r.series.map((s) => [s.name, s.via, String(s.ms.length), percentile(s.ms, 50), percentile(s.ms, 99), Math.max(...s.ms), s.ms.length / (s.wallMs / 1000)]),
  ]);
  console.log('\nkubectl vs direct client (same operation, p50)\n');
  printTable([
    ['operation', 'kubectl p50 ms', 'client p50 ms', 'ratio'],
    ...r.series.filter((s) => s.via === 'kubectl').map((k) => {
      const cl = r.series.find((s) => s.via === 'client' && s.name === k.name)!;
      return [k.name, percentile(k.ms, 50), percentile(cl.ms, 50), `${(percentile(k.ms, 50) / percentile(cl.ms, 50)).toFixed(1)}x`];
    }),
  ]);
  const w = r.watch;
  console.log(`\nwatch fan-out: ${w.watchers} watchers x ${w.events} creates: ${w.received}/${w.expected} events delivered, ` +
    `${(w.received / (w.wallMs / 1000)).toFixed(0)} events/s; delivery p50 ${percentile(w.delivery, 50).toFixed(1)} ms, p99 ${percentile(w.delivery, 99).toFixed(1)} ms\n`);

  const p99 = (name: string, via: Series['via']) => percentile(r.series.find((s) => s.name.startsWith(name) && s.via === via)!.ms, 99);
  console.log('budgets (Kubernetes SIG-scalability SLOs)\n');
  printTable([
    ['budget', 'measured', 'budget', 'ratio', ''],
    budgetRow('mutating p99 (create, client)', p99('create configmap', 'client'), 1000, 'ms'),
    budgetRow(`mutating p99 (create, x${C} clients)`, p99(`create configmap x${C}`, 'client'), 1000, 'ms'),
    budgetRow('mutating p99 (create, kubectl incl. process start)', p99('create configmap', 'kubectl'), 1000, 'ms'),
    budgetRow('get p99 (client)', p99('get configmap', 'client'), 1000, 'ms'),
    budgetRow('get p99 (kubectl incl. process start)', p99('get configmap', 'kubectl'), 1000, 'ms'),
    budgetRow('namespace list p99 (client)', p99('list', 'client'), 5000, 'ms'),
    budgetRow('namespace list p99 (kubectl incl. process start)', p99('list', 'kubectl'), 5000, 'ms'),
    budgetRow('watch delivery p99', percentile(w.delivery, 99), 1000, 'ms'),
  ]);
  if (w.received < w.expected) console.log(`\nWARNING: ${w.expected - w.received} watch events not delivered within 60 s`);
});
