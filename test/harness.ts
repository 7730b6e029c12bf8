// End-to-end harness: runs `tsk server` / `tsk agent` as child processes with their own data dirs and ports,
// drives them with the real kubectl, and cleans up by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { busyboxImageArchive } from '../lib/agent/images/builtin.ts';
import { tempDir as tempDirOnly } from '../lib/test-fixture.ts';

export const root = join(import.meta.dirname, '..');
export const KUBECTL = '/usr/bin/kubectl';

export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Polls fn until it returns a truthy value or the deadline passes (then throws with the last error). */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 60_000, intervalMs = 250): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; ; i++) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      if ((err as { fatal?: boolean }).fatal) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, Math.min(intervalMs * (i < 10 ? 1 : 2), 2000)));
  }
}

export interface TskProcess {
  child: ChildProcess;
  netns?: string;
  kill9(): Promise<void>;
  /** Stops the server, then `tsk killall` for its data dir (pods, containerd, network setup, mounts). */
  killall(): Promise<void>;
  dataDir: string;
  kubeconfig: string;
  port: number;
  log: () => string;
  stop(): Promise<void>;
}

export interface StartServerOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Run inside this network namespace (ip netns exec). */
  netns?: string;
  dataDir?: string;
  disableAgent?: boolean;
  nodeName?: string;
  /** Teardown only stops the process (no killall): for control-plane-only servers. */
  keepPods?: boolean;
}

let binary: string | undefined;

/** Run `tsk` from this executable (e.g. the single binary built by the test) instead of `node cmd/tsk.ts`. */
export function useBinary(path: string | undefined): void {
  binary = path;
}

function tskCommand(): string[] {
  if (binary) return [binary];
  const node = join(root, 'node_modules/node/bin/node');
  return [existsSync(node) ? node : process.execPath, join(root, 'cmd/tsk.ts')];
}

/** A temp dir removed on teardown, after unmounting whatever is still mounted below it (pod volumes). */
export function tempDir(t: Teardown, prefix = 'tsk-e2e-'): string {
  const dir = tempDirOnly(t, prefix);
  t.teardown(() => {
    spawnSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' });
  });
  return dir;
}

function spawnTsk(args: string[], opts: { env?: NodeJS.ProcessEnv; netns?: string; logFile: string }): { child: ChildProcess; log: () => string } {
  const [cmd, ...rest] = tskCommand();
  const full = [...nsPrefix(opts.netns), cmd!, ...rest, ...args];
  let out = '';
  const child = spawn(full[0]!, full.slice(1), { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (out = (out + d).slice(-200_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-200_000)));
  return { child, log: () => out };
}

async function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** nsenter enters only the network namespace (`ip netns exec` would also remount /sys and hide cgroup mounts). */
export function nsPrefix(netns?: string): string[] {
  return netns ? ['nsenter', `--net=/run/netns/${netns}`, '--'] : [];
}

/** A network namespace with loopback and an "eth0" at `address`/24 holding the default route. Removed on teardown. */
export function createNetns(t: Teardown, address = '10.199.0.2'): string {
  const name = `tsk-e2e-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  const ip = (...a: string[]) => {
    const r = spawnSync('ip', a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
  };
  ip('netns', 'add', name);
  t.teardown(() => { spawnSync('ip', ['netns', 'del', name]); });
  ip('-n', name, 'link', 'set', 'lo', 'up');
  // A veth pair whose host end stays down and unaddressed: the namespace gets a real interface for its node IP.
  const host = `tv${Math.random().toString(36).slice(2, 10)}`;
  ip('link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name);
  ip('-n', name, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
  ip('-n', name, 'link', 'set', 'eth0', 'up');
  ip('-n', name, 'route', 'add', 'default', 'dev', 'eth0');
  return name;
}

/** Kills a containerd the node left behind (its PID file under the data dir), for crash cleanup. */
function killLeftovers(dataDir: string): void {
  for (const f of ['agent/containerd/containerd.pid']) {
    const p = join(dataDir, f);
    if (!existsSync(p)) continue;
    const pid = Number(readFileSync(p, 'utf8').trim());
    if (pid > 1) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
}

export async function startServer(t: Teardown, opts: StartServerOptions = {}): Promise<TskProcess> {
  const dataDir = opts.dataDir ?? tempDir(t);
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  const args = ['server', '--data-dir', dataDir, '--https-listen-port', String(port), '--write-kubeconfig', kubeconfig,
    '--node-name', opts.nodeName ?? 'tsk-e2e', ...(opts.disableAgent ? ['--disable-agent'] : []), ...(opts.args ?? [])];
  const { child, log } = spawnTsk(args, { env: opts.env, netns: opts.netns, logFile: join(dataDir, 'tsk.log') });
  const proc: TskProcess = {
    child, dataDir, kubeconfig, port, log, netns: opts.netns,
    async stop() {
      await stopChild(child);
      killLeftovers(dataDir);
    },
    async kill9() {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    },
    async killall() {
      await stopChild(child);
      const [cmd, ...rest] = tskCommand();
      spawnSync(nsPrefix(opts.netns)[0] ?? cmd!, [...nsPrefix(opts.netns).slice(1), ...(opts.netns ? [cmd!] : []), ...rest, 'killall', '--data-dir', dataDir], { stdio: 'ignore', timeout: 120_000 });
      killLeftovers(dataDir);
    },
  };
  t.teardown(() => (opts.keepPods ? proc.stop() : proc.killall()));
  await waitFor('server ready', () => {
    if (child.exitCode !== null) throw Object.assign(new Error(`tsk server exited with ${child.exitCode}:\n${log().slice(-3000)}`), { fatal: true });
    if (!existsSync(kubeconfig)) return false;
    const r = kubectl(proc, ['get', '--raw', '/readyz']);
    return r.status === 0 && r.stdout.trim() === 'ok';
  }, 90_000);
  return proc;
}

/** Writes the built-in busybox image where the node imports it at start (no registry needed); returns dataDir. */
export function seedBusybox(dataDir: string): string {
  mkdirSync(join(dataDir, 'agent/images'), { recursive: true });
  writeFileSync(join(dataDir, 'agent/images/busybox.tar'), busyboxImageArchive());
  return dataDir;
}

/** Waits until the node's Ready condition is True. */
export async function waitNodeReady(proc: { kubeconfig: string; dataDir: string; netns?: string }, nodeName: string, what = 'node Ready'): Promise<void> {
  await waitFor(what, () => kubectl(proc, ['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']).stdout === 'True', 90_000);
}

export interface NetnsServerOptions {
  /** Of the temp work dir. */
  prefix?: string;
  nodeName: string;
  /** After --node-ip 10.199.0.2. */
  args?: string[];
  /** A work dir the test made already (instead of a new one from prefix). */
  work?: string;
  /** Wait for the node to be Ready (default true). */
  ready?: boolean;
}

export interface NetnsServer {
  server: TskProcess;
  work: string;
  /** work/data, seeded with busybox. */
  dataDir: string;
  netns: string;
  /** What the server was started with: startServer(t, options) starts it again on the same data. */
  options: StartServerOptions;
}

/** `tsk server` as a one-node cluster with its own containerd in a new network namespace at 10.199.0.2. */
export async function startNetnsServer(t: Teardown, o: NetnsServerOptions): Promise<NetnsServer> {
  const work = o.work ?? tempDir(t, o.prefix);
  const netns = createNetns(t, '10.199.0.2');
  const dataDir = seedBusybox(join(work, 'data'));
  const options: StartServerOptions = { netns, dataDir, nodeName: o.nodeName, args: ['--node-ip', '10.199.0.2', ...(o.args ?? [])] };
  const server = await startServer(t, options);
  if (o.ready !== false) await waitNodeReady(server, o.nodeName);
  return { server, work, dataDir, netns, options };
}

export interface StartAgentOptions {
  server: string;
  token: string;
  nodeName: string;
  netns?: string;
  dataDir?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface AgentProcess {
  child: ChildProcess;
  dataDir: string;
  log: () => string;
  killall(): Promise<void>;
}

/** Starts `tsk agent`; readiness is the caller's to check (the Node object on the server). */
export function startAgent(t: Teardown, o: StartAgentOptions): AgentProcess {
  const dataDir = o.dataDir ?? tempDir(t, 'tsk-agent-');
  const args = ['agent', '--server', o.server, '--token', o.token, '--data-dir', dataDir, '--node-name', o.nodeName, ...(o.args ?? [])];
  const { child, log } = spawnTsk(args, { env: o.env, netns: o.netns, logFile: join(dataDir, 'tsk.log') });
  const proc: AgentProcess = {
    child, dataDir, log,
    async killall() {
      await stopChild(child);
      const [cmd, ...rest] = tskCommand();
      const pre = nsPrefix(o.netns);
      spawnSync(pre[0] ?? cmd!, [...pre.slice(1), ...(pre.length ? [cmd!] : []), ...rest, 'killall', '--data-dir', dataDir], { stdio: 'ignore', timeout: 120_000 });
      killLeftovers(dataDir);
    },
  };
  t.teardown(() => proc.killall());
  return proc;
}

/**
 * Several emulated machines on one L2 segment: a "switch" namespace holding a bridge, and one namespace per node
 * with an eth0 veth into it at 10.199.<subnet>.<i+1>/24. Everything is removed on teardown.
 */
export function createNetworkOfNodes(t: Teardown, count: number, subnet = 1): { namespaces: string[]; addresses: string[] } {
  const tag = `${process.pid % 10000}${Math.random().toString(36).slice(2, 5)}`;
  const ip = (...a: string[]) => {
    const r = spawnSync('ip', a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
  };
  const sw = `tsk-sw-${tag}`;
  ip('netns', 'add', sw);
  t.teardown(() => { spawnSync('ip', ['netns', 'del', sw]); });
  ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', sw, 'link', 'set', 'br0', 'up');
  const namespaces: string[] = [];
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const ns = `tsk-n${i}-${tag}`;
    const address = `10.199.${subnet}.${i + 1}`;
    ip('netns', 'add', ns);
    t.teardown(() => { spawnSync('ip', ['netns', 'del', ns]); });
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', sw, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('-n', sw, 'link', 'set', `p${i}`, 'master', 'br0');
    ip('-n', sw, 'link', 'set', `p${i}`, 'up');
    ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'route', 'add', 'default', 'dev', 'eth0');
    namespaces.push(ns);
    addresses.push(address);
  }
  return { namespaces, addresses };
}

/** A command inside a namespace (e.g. curl from a node); returns status and output. */
export function inNetns(netns: string, cmd: string[], timeoutMs = 30_000): KubectlResult {
  const r = spawnSync('nsenter', [`--net=/run/netns/${netns}`, '--', ...cmd], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export interface KubectlResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function kubectl(proc: { kubeconfig: string; dataDir: string; netns?: string }, args: string[], input?: string): KubectlResult {
  const pre = nsPrefix(proc.netns);
  const r = spawnSync(pre[0] ?? KUBECTL, [...pre.slice(1), ...(pre.length ? [KUBECTL] : []), '--kubeconfig', proc.kubeconfig, '--cache-dir', join(proc.dataDir, '.kube-cache'), ...args], {
    input, encoding: 'utf8', timeout: 60_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** kubectl that must succeed; returns stdout. */
export function kc(proc: { kubeconfig: string; dataDir: string; netns?: string }, args: string[], input?: string): string {
  const r = kubectl(proc, args, input);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
