// The one adapter over the containerd process: writes its config, runs it as a child, restarts it with backoff when
// it dies, waits until its CRI socket answers, and stops it by PID (SIGTERM, then SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import { GrpcCri } from '../cri/grpc.ts';
import { hostPortCniConfDir } from '../network/cni-config.ts';
import { containerdConfig, containerdPaths, type ContainerdConfigOptions, type ContainerdPaths } from './config.ts';

const log = logger('agent/containerd');

export interface ContainerdOptions extends Omit<ContainerdConfigOptions, 'paths'> {
  dataDir: string;
  signal: AbortSignal;
  /** Path of the containerd binary (default: containerd on PATH). */
  binary?: string;
  clock?: Clock;
  /** How long ready waits for the socket (default 60 s). */
  readyTimeoutMs?: number;
  /** Run containerd inside this named network namespace (nsenter execs: the PID stays containerd's). Tests. */
  netns?: string;
}

export interface SupervisedContainerd {
  paths: ContainerdPaths;
  /** unix:// endpoint of the CRI socket. */
  endpoint: string;
  /** Resolves once the CRI Version call answers; rejects after readyTimeoutMs or when aborted. */
  ready: Promise<void>;
  pid(): number | undefined;
  /** Stops supervision and the process (SIGTERM, then SIGKILL after graceMs). Containers keep running (shims). */
  stop(graceMs?: number): Promise<void>;
}

/** A containerd left running by a previous tsk that crashed (PID file): SIGTERM, then SIGKILL after 10 s. */
async function stopStale(pidFile: string): Promise<void> {
  let pid: number;
  try { pid = Number(readFileSync(pidFile, 'utf8').trim()); } catch { return; }
  const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
  let cmdline = '';
  try { cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { /* gone */ }
  if (!pid || !alive() || !cmdline.includes('containerd')) return;
  log.warn('stopping a containerd left over from a previous run', { pid });
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
}

export function startContainerd(o: ContainerdOptions): SupervisedContainerd {
  const clock = o.clock ?? realClock;
  const paths = containerdPaths(o.dataDir);
  for (const d of [paths.dir, paths.root, paths.state, paths.certsDir, o.cniConfDir, hostPortCniConfDir(o.cniConfDir)]) mkdirSync(d, { recursive: true, mode: 0o700 });
  writeFileSync(paths.config, containerdConfig({ ...o, paths }), { mode: 0o600 });
  try { if (statSync(paths.log).size > 10 * 1024 * 1024) renameSync(paths.log, `${paths.log}.1`); } catch { /* no log yet */ }
  const stale = stopStale(join(paths.dir, 'containerd.pid'));

  let child: ChildProcess | undefined;
  let stopping = false;
  let exited: Promise<void> = Promise.resolve();
  let backoff = 1000;
  let startedAt = 0;
  let fatal: Error | undefined;

  const launch = () => {
    if (stopping || o.signal.aborted || fatal) return;
    const fd = openSync(paths.log, 'a');
    const cmd = [o.binary ?? 'containerd', '--config', paths.config];
    // nsenter enters only the network namespace (`ip netns exec` would also remount /sys and hide the cgroup mounts).
    if (o.netns) cmd.unshift('nsenter', `--net=/run/netns/${o.netns}`, '--');
    const c = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', fd, fd], detached: false });
    closeSync(fd);
    child = c;
    if (c.pid) writeFileSync(join(paths.dir, 'containerd.pid'), `${c.pid}\n`); // for `tsk killall` and crash cleanup
    startedAt = clock.now();
    log.info('containerd started', { pid: c.pid, config: paths.config });
    exited = new Promise((resolve) => {
      c.on('error', (err: NodeJS.ErrnoException) => {
        log.error('containerd failed to start', { err: String(err) });
        if (err.code === 'ENOENT') {
          fatal = new Error(`containerd not found (${cmd[0]}): install the containerd package`, { cause: err });
          child = undefined;
          resolve();
        }
      });
      c.on('exit', (code, sig) => {
        child = undefined;
        rmSync(join(paths.dir, 'containerd.pid'), { force: true });
        resolve();
        if (stopping || o.signal.aborted) return;
        if (clock.now() - startedAt > 60_000) backoff = 1000;
        log.warn('containerd exited; restarting', { code, signal: sig, backoffMs: backoff, log: paths.log });
        clock.setTimeout(launch, backoff);
        backoff = Math.min(backoff * 2, 30_000);
      });
    });
  };
  void stale.then(launch);

  const endpoint = `unix://${paths.address}`;
  const readyAbort = new AbortController();
  const readySignal = AbortSignal.any([o.signal, readyAbort.signal]);
  const ready = (async () => {
    const cri = new GrpcCri({ endpoint, timeoutMs: 2000 });
    const closeOnAbort = () => cri.close();
    readySignal.addEventListener('abort', closeOnAbort, { once: true });
    const deadline = clock.now() + (o.readyTimeoutMs ?? 60_000);
    try {
      for (let i = 0; ; i++) {
        if (readySignal.aborted) throw new Error('containerd: stopped while waiting for the CRI socket');
        if (fatal) throw fatal;
        try {
          const v = await cri.version();
          const st = await cri.status();
          if (st.conditions.find((c) => c.type === 'RuntimeReady')?.status) {
            log.info('containerd ready', { version: v.runtime_version });
            return;
          }
        } catch (e) {
          if (i % 10 === 9) log.info('waiting for containerd CRI socket', { endpoint, err: String(e) });
        }
        if (clock.now() > deadline) throw new Error(`containerd did not answer on ${endpoint} (see ${paths.log})`);
        await clock.sleep(200, readySignal);
      }
    } finally {
      readySignal.removeEventListener('abort', closeOnAbort);
      cri.close();
    }
  })();
  ready.catch(() => {});

  const stop = async (graceMs = 10_000) => {
    stopping = true;
    readyAbort.abort();
    await stale;
    const c = child;
    if (!c || c.exitCode !== null) return;
    c.kill('SIGTERM');
    const killer = setTimeout(() => { if (child === c) c.kill('SIGKILL'); }, graceMs);
    await exited;
    clearTimeout(killer);
    log.info('containerd stopped', { pid: c.pid });
  };
  o.signal.addEventListener('abort', () => { void stop(); }, { once: true });

  return { paths, endpoint, ready, pid: () => child?.pid, stop };
}
