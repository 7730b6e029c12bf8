// Service proxy benchmark (run as root; not part of the test suite):
//   (a) render + apply 1,000 services x 5 endpoints with iptables-restore inside a network namespace made here;
//   (b) one endpoint change → applied rules, through startProxy (object caches + coalescer) fed by a FakeClient;
//   (c) HTTP through a ClusterIP vs straight to the pod IP: client and server namespaces joined by a veth pair,
//       the proxy's rules for one service loaded in the client namespace; ratio ClusterIP / pod IP.
// Only addresses inside the namespaces this script creates are used; everything is removed at the end.
//
//   npm run bench:proxy [-- --services 1000 --endpoints 5 --requests 2000 --bulk-mb 256 --changes 3 --rounds 3]
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { FakeClient } from '../lib/client/fake.ts';
import { core, discovery, type KubeObject } from '../lib/client/types.ts';
import { execRunner, netnsRunner, type CommandRunner } from '../lib/agent/exec/runner.ts';
import { ProxyApplier, startProxy } from '../lib/agent/proxy/proxier.ts';
import { renderRules } from '../lib/agent/proxy/render.ts';
import type { ProxyServicePort, ProxyState } from '../lib/agent/proxy/types.ts';

const { values: args } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    endpoints: { type: 'string', default: '5' },
    requests: { type: 'string', default: '2000' },
    'bulk-mb': { type: 'string', default: '256' },
    changes: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
  },
});
const SERVICES = Number(args.services);
const ENDPOINTS = Number(args.endpoints);
const REQUESTS = Number(args.requests);
const BULK_MB = Number(args['bulk-mb']);
const CHANGES = Number(args.changes);
const ROUNDS = Number(args.rounds);

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const sleep = (m: number) => new Promise((r) => setTimeout(r, m));
const out = (s: string) => process.stdout.write(s + '\n');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ip = (base: number, i: number) => {
  const v = base + i;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
};
const CLUSTER_BASE = (10 << 24) | (43 << 16) | (1 << 8); // 10.43.1.0 upwards
const POD_BASE = (10 << 24) | (42 << 16) | (1 << 8); // 10.42.1.0 upwards

// ---- namespaces ----

const tag = `tbp${process.pid}`;
const NS = { rules: `${tag}-r`, client: `${tag}-c`, server: `${tag}-s` };
const VETH = { client: `${tag}c`, server: `${tag}s` };
const CLIENT_IP = '192.168.251.1';
const POD_IP = '192.168.251.2';
const CLUSTER_IP = '10.43.250.1';
const POD_PORT = 8080;
const started: ChildProcess[] = [];

const sh = (cmd: string, ...a: string[]) => execRunner.run(cmd, a);

/**
 * The proxier's commands inside a namespace, with a long timeout (the runner's default 30 s is too short for a
 * 1,000-service restore on a loaded machine) and the time spent per command (restore vs save) recorded.
 */
function timedNetns(ns: string): CommandRunner & { spent: Map<string, number> } {
  const inner = netnsRunner(ns);
  const spent = new Map<string, number>();
  return {
    spent,
    async run(cmd, a, opts) {
      const t0 = process.hrtime.bigint();
      try {
        return await inner.run(cmd, a, { ...opts, timeoutMs: Math.max(opts?.timeoutMs ?? 0, 600_000) });
      } finally {
        const name = (cmd === 'ip' ? a[3] : cmd) ?? cmd;
        spent.set(name, (spent.get(name) ?? 0) + ms(t0));
      }
    },
  };
}

async function setupNamespaces(): Promise<void> {
  for (const ns of Object.values(NS)) {
    await sh('ip', 'netns', 'add', ns);
    await sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  }
  await sh('ip', 'link', 'add', VETH.client, 'type', 'veth', 'peer', 'name', VETH.server);
  await sh('ip', 'link', 'set', VETH.client, 'netns', NS.client);
  await sh('ip', 'link', 'set', VETH.server, 'netns', NS.server);
  await sh('ip', '-n', NS.client, 'addr', 'add', `${CLIENT_IP}/24`, 'dev', VETH.client);
  await sh('ip', '-n', NS.server, 'addr', 'add', `${POD_IP}/24`, 'dev', VETH.server);
  await sh('ip', '-n', NS.client, 'link', 'set', VETH.client, 'up');
  await sh('ip', '-n', NS.server, 'link', 'set', VETH.server, 'up');
  // The ClusterIP must be routable before the nat OUTPUT hook rewrites it.
  await sh('ip', '-n', NS.client, 'route', 'add', 'default', 'via', POD_IP);
}

async function cleanup(): Promise<void> {
  for (const p of started) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
    }
  }
  for (const ns of Object.values(NS)) await execRunner.run('ip', ['netns', 'del', ns], { allowFail: true });
}

// ---- (a) render + apply ----

function bigState(extra: ProxyServicePort[] = []): ProxyState {
  const services: ProxyServicePort[] = [];
  for (let s = 0; s < SERVICES; s++) {
    services.push({
      namespace: 'bench', name: `svc-${s}`, portName: 'http', protocol: 'TCP', clusterIP: ip(CLUSTER_BASE, s), port: 80,
      externalIPs: [], loadBalancerIPs: [], internalLocal: false, externalLocal: false,
      endpoints: Array.from({ length: ENDPOINTS }, (_, e) => ({ ip: ip(POD_BASE, s * ENDPOINTS + e), port: 8080, local: false })),
    });
  }
  return { clusterCidr: '10.42.0.0/16', services: [...services, ...extra] };
}

async function benchProgram(): Promise<Record<string, number>> {
  const state = bigState();
  const r: Record<string, number> = {};
  renderRules({ services: state.services.slice(0, 10) }); // warm-up
  const renders: number[] = [];
  let text = '';
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) {
    t0 = process.hrtime.bigint();
    text = renderRules(state);
    renders.push(ms(t0));
  }
  r['render ms (pure renderRules, median)'] = median(renders);
  r['rules text KB'] = text.length / 1024;
  r['rule lines'] = text.split('\n').filter((l) => l.startsWith('-A ')).length;
  const runner = timedNetns(NS.rules);
  const applier = new ProxyApplier(runner);
  t0 = process.hrtime.bigint();
  await applier.apply(state);
  r['first apply ms (empty tables, incl. backend detection + jump rules)'] = ms(t0);
  runner.spent.clear();
  const again: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    t0 = process.hrtime.bigint();
    await applier.apply(state);
    again.push(ms(t0));
  }
  r[`re-apply ms (same ${SERVICES} services, median)`] = median(again);
  for (const [cmd, t] of runner.spent) r[`  of which ${cmd} ms (per apply)`] = t / ROUNDS;
  const save = await execRunner.run('ip', ['netns', 'exec', NS.rules, 'iptables-save', '-t', 'nat']);
  r['DNAT rules in the kernel'] = save.stdout.split('\n').filter((l) => l.includes('DNAT --to-destination')).length;
  return r;
}

// ---- (b) one endpoint change through startProxy ----

function objects(): { services: KubeObject[]; slices: KubeObject[] } {
  const services: KubeObject[] = [];
  const slices: KubeObject[] = [];
  for (let s = 0; s < SERVICES; s++) {
    services.push({
      apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'bench', name: `svc-${s}` },
      spec: { type: 'ClusterIP', clusterIP: ip(CLUSTER_BASE, s), ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
    } as KubeObject);
    slices.push(sliceFor(s, Array.from({ length: ENDPOINTS }, (_, e) => ip(POD_BASE, s * ENDPOINTS + e))));
  }
  return { services, slices };
}

function sliceFor(s: number, ips: string[]): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { namespace: 'bench', name: `svc-${s}-abcde`, labels: { 'kubernetes.io/service-name': `svc-${s}` } },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((a) => ({ addresses: [a], conditions: { ready: true }, nodeName: 'other' })),
  } as KubeObject;
}

async function benchChange(): Promise<Record<string, number>> {
  // A fresh namespace's worth of rules: reuse the rules namespace after flushing nothing; startProxy replaces them.
  const client = new FakeClient();
  const { services, slices } = objects();
  client.seed(core('services'), ...services);
  client.seed(discovery('endpointslices'), ...slices);
  const inner = timedNetns(NS.rules);
  let waiting: { marker: string; resolve: () => void } | undefined;
  const runner: CommandRunner = {
    async run(cmd, a, opts) {
      const res = await inner.run(cmd, a, opts);
      if (waiting && opts?.input?.includes(waiting.marker)) waiting.resolve();
      return res;
    },
  };
  const ac = new AbortController();
  // The real clock's timers are unref'd (they never keep an agent alive); this handle keeps the bench alive.
  const keepAlive = setInterval(() => undefined, 1000);
  const minSyncIntervalMs = 1000;
  const t0 = process.hrtime.bigint();
  const proxy = startProxy({ client, runner, nodeName: 'bench-node', clusterCidr: '10.42.0.0/16', signal: ac.signal, minSyncIntervalMs });
  await proxy.ready;
  const r: Record<string, number> = { 'startProxy → first sync ms (list + build + apply)': ms(t0) };
  try {
    const idleLat: number[] = [];
    const busyLat: number[] = [];
    for (let i = 0; i < CHANGES * 2; i++) {
      const afterSync = i % 2 === 1; // odd rounds: change right after a sync, so the coalescer's interval applies
      if (!afterSync) await sleep(minSyncIntervalMs + 200);
      const s = (i * 97) % SERVICES;
      const newIp = `10.44.${i}.${1 + (s % 250)}`;
      const cur = await client.get(discovery('endpointslices'), `svc-${s}-abcde`, 'bench');
      const next = sliceFor(s, [newIp, ...Array.from({ length: ENDPOINTS - 1 }, (_, e) => ip(POD_BASE, s * ENDPOINTS + e))]);
      next.metadata.resourceVersion = cur.metadata.resourceVersion;
      const applied = new Promise<void>((resolve) => { waiting = { marker: `DNAT --to-destination ${newIp}:8080`, resolve }; });
      const t1 = process.hrtime.bigint();
      await client.update(discovery('endpointslices'), next);
      await applied;
      (afterSync ? busyLat : idleLat).push(ms(t1));
      waiting = undefined;
    }
    const save = await execRunner.run('ip', ['netns', 'exec', NS.rules, 'iptables-save', '-t', 'nat']);
    if (!save.stdout.includes(`10.44.${CHANGES * 2 - 1}.`)) throw new Error('the last change is not in the kernel rules');
    r['endpoint change → rules applied ms, idle proxier (median)'] = median(idleLat);
    r['endpoint change → rules applied ms, idle proxier (max)'] = Math.max(...idleLat);
    r[`endpoint change → rules applied ms, right after a sync (median; min interval ${minSyncIntervalMs} ms)`] = median(busyLat);
    r['syncs'] = proxy.syncs();
  } finally {
    ac.abort();
    clearInterval(keepAlive);
  }
  return r;
}

// ---- (c) ClusterIP vs pod IP ----

const SERVER = `
import http from 'node:http';
const chunk = Buffer.alloc(1 << 20);
const s = http.createServer((req, res) => {
  const m = /^\\/bulk\\/(\\d+)/.exec(req.url);
  if (!m) { res.end('ok'); return; }
  let left = Number(m[1]);
  res.writeHead(200, { 'content-length': String(left * chunk.length) });
  const pump = () => { while (left > 0) { left--; if (!res.write(chunk)) { res.once('drain', pump); return; } } res.end(); };
  pump();
});
s.listen(${POD_PORT}, '0.0.0.0', () => process.stdout.write('listening\\n'));
`;

const CLIENT = `
import http from 'node:http';
const [host, port, n, mb] = process.argv.slice(-4);
const agent = new http.Agent({ keepAlive: false });
const get = (path) => new Promise((resolve, reject) => {
  const req = http.get({ host, port: Number(port), path, agent }, (res) => {
    let bytes = 0;
    res.on('data', (d) => { bytes += d.length; });
    res.on('end', () => resolve(bytes));
    res.on('error', reject);
  });
  req.on('error', reject);
});
let t0 = process.hrtime.bigint();
for (let i = 0; i < Number(n); i++) await get('/');
const reqs = Number(n) / (Number(process.hrtime.bigint() - t0) / 1e9);
t0 = process.hrtime.bigint();
const bytes = await get('/bulk/' + mb);
const mbps = bytes / 1048576 / (Number(process.hrtime.bigint() - t0) / 1e9);
process.stdout.write(JSON.stringify({ reqs, mbps }) + '\\n');
`;

async function runClient(host: string, port: number): Promise<{ reqs: number; mbps: number }> {
  const res = await execRunner.run('ip', ['netns', 'exec', NS.client, process.execPath, '--input-type=module', '-e', CLIENT, '--',
    host, String(port), String(REQUESTS), String(BULK_MB)], { timeoutMs: 300_000 });
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as { reqs: number; mbps: number };
}

async function benchThroughput(): Promise<Record<string, number>> {
  const server = spawn('ip', ['netns', 'exec', NS.server, process.execPath, '--input-type=module', '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(server);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start')), 30_000);
    server.stdout!.setEncoding('utf8').on('data', (d: string) => { if (d.includes('listening')) { clearTimeout(timer); resolve(); } });
    server.once('exit', (c) => reject(new Error(`the server exited (${c})`)));
  });
  const svc: ProxyServicePort = {
    namespace: 'bench', name: 'web', portName: 'http', protocol: 'TCP', clusterIP: CLUSTER_IP, port: 80,
    externalIPs: [], loadBalancerIPs: [], internalLocal: false, externalLocal: false,
    endpoints: [{ ip: POD_IP, port: POD_PORT, local: false }],
  };
  const applier = new ProxyApplier(timedNetns(NS.client));
  const r: Record<string, number> = {};
  for (const [label, state] of [
    ['1 service', { clusterCidr: '10.42.0.0/16', services: [svc] } as ProxyState],
    [`${SERVICES + 1} services`, bigState([svc])],
  ] as const) {
    await applier.apply(state);
    const direct: { reqs: number; mbps: number }[] = [];
    const viaSvc: { reqs: number; mbps: number }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      direct.push(await runClient(POD_IP, POD_PORT));
      viaSvc.push(await runClient(CLUSTER_IP, 80));
    }
    const d = { reqs: median(direct.map((x) => x.reqs)), mbps: median(direct.map((x) => x.mbps)) };
    const v = { reqs: median(viaSvc.map((x) => x.reqs)), mbps: median(viaSvc.map((x) => x.mbps)) };
    r[`[${label} loaded] requests/s (new connection each), pod IP`] = d.reqs;
    r[`[${label} loaded] requests/s (new connection each), ClusterIP`] = v.reqs;
    r[`[${label} loaded] requests/s ratio ClusterIP/pod IP`] = v.reqs / d.reqs;
    r[`[${label} loaded] bulk MB/s (${BULK_MB} MB), pod IP`] = d.mbps;
    r[`[${label} loaded] bulk MB/s (${BULK_MB} MB), ClusterIP`] = v.mbps;
    r[`[${label} loaded] bulk MB/s ratio ClusterIP/pod IP`] = v.mbps / d.mbps;
  }
  return r;
}

function print(title: string, r: Record<string, number>): void {
  out(`\n${title}`);
  const w = Math.max(...Object.keys(r).map((k) => k.length));
  for (const [k, v] of Object.entries(r)) out(`  ${k.padEnd(w)}  ${(Number.isInteger(v) || v >= 100 ? v.toFixed(0) : v.toFixed(2)).padStart(10)}`);
}

if (process.getuid?.() !== 0) {
  out('bench:proxy needs root (network namespaces, iptables)');
  process.exit(1);
}
process.stdout.on('error', () => undefined); // a closed pipe (e.g. | head) must not skip the cleanup
const onSignal = () => { void cleanup().finally(() => process.exit(130)); };
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
try {
  await setupNamespaces();
  const ipt = (await execRunner.run('iptables', ['--version'])).stdout.trim();
  out(`bench:proxy: ${SERVICES} services x ${ENDPOINTS} endpoints, ${ipt}, namespaces ${Object.values(NS).join(' ')}`);
  print(`(a) program ${SERVICES} services x ${ENDPOINTS} endpoints`, await benchProgram());
  print('(b) one endpoint change, FakeClient → startProxy → iptables-restore', await benchChange());
  print(`(c) HTTP through a ClusterIP vs the pod IP (client/server namespaces over veth, ${REQUESTS} requests + one bulk GET, median of ${ROUNDS})`, await benchThroughput());
} finally {
  await cleanup();
}
