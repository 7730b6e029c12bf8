// `tsk killall`: stop the node's pods and containerd, then remove what the node set up on the host — pod cgroups,
// iptables chains and jumps, the bridge and VXLAN device, cluster routes, CNI state, and mounts under the data dir.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../log/logger.ts';
import { execRunner, type CommandRunner } from './exec/runner.ts';
import { containerdPaths } from './containerd/config.ts';
import { startContainerd } from './containerd/supervisor.ts';
import { GrpcCri } from './cri/grpc.ts';
import { PAUSE_IMAGE } from './images/builtin.ts';
import { cleanupNodeNetworking } from './network/node-networking.ts';
import { cleanupNetpol } from './netpol/policy-enforcer.ts';
import { holderPid } from '../store/pid-file.ts';
import { removeKubepodsIfEmpty } from './kubelet/cgroups.ts';

const log = logger('killall');

export interface KillallOptions {
  dataDir: string;
  clusterCidr?: string;
  runner?: CommandRunner;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

async function stopPid(pid: number, what: string): Promise<void> {
  log.info(`stopping ${what}`, { pid });
  process.kill(pid, 'SIGTERM');
  if (!(await waitGone(pid, 15_000))) {
    process.kill(pid, 'SIGKILL');
    await waitGone(pid, 5_000);
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Stops and removes every pod sandbox through CRI (this ends containers and their shims and runs CNI DEL). */
async function removeSandboxes(dataDir: string): Promise<void> {
  const paths = containerdPaths(dataDir);
  const ac = new AbortController();
  const running = readPid(join(paths.dir, 'containerd.pid'));
  const own = running ? undefined : startContainerd({ dataDir, signal: ac.signal, sandboxImage: PAUSE_IMAGE, cniConfDir: join(dataDir, 'agent', 'etc', 'cni', 'net.d'), readyTimeoutMs: 30_000 });
  try {
    await own?.ready;
    const cri = new GrpcCri({ endpoint: `unix://${paths.address}`, timeoutMs: 30_000 });
    try {
      const sandboxes = await cri.listPodSandbox();
      for (const s of sandboxes) {
        await cri.stopPodSandbox(s.id).catch((e) => log.warn('stopping sandbox', { id: s.id, err: String(e) }));
        await cri.removePodSandbox(s.id).catch((e) => log.warn('removing sandbox', { id: s.id, err: String(e) }));
      }
      log.info('pod sandboxes removed', { count: sandboxes.length });
    } finally {
      cri.close();
    }
  } catch (e) {
    log.warn('could not reach containerd to remove pods', { err: String(e) });
  } finally {
    ac.abort();
    await own?.stop();
  }
  const pid = readPid(join(paths.dir, 'containerd.pid'));
  if (pid) await stopPid(pid, 'containerd');
}

async function unmountUnder(runner: CommandRunner, dir: string): Promise<void> {
  let mounts: string[] = [];
  try {
    mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m === dir || m.startsWith(`${dir}/`));
  } catch {
    return;
  }
  for (const m of mounts.sort().reverse()) await runner.run('umount', ['-l', m.replace(/\\040/g, ' ')], { allowFail: true });
  if (mounts.length) log.info('unmounted', { count: mounts.length, under: dir });
}

export async function killall(o: KillallOptions): Promise<void> {
  const runner = o.runner ?? execRunner;
  const tsk = holderPid(join(o.dataDir, 'server', 'db', 'state.db'));
  if (tsk && tsk !== process.pid) await stopPid(tsk, 'tsk server');
  const agentPid = readPid(join(o.dataDir, 'agent', 'tsk-agent.pid'));
  if (agentPid && agentPid !== process.pid) await stopPid(agentPid, 'tsk agent');
  await removeSandboxes(o.dataDir);
  try {
    removeKubepodsIfEmpty();
  } catch (e) {
    log.warn('removing the /kubepods cgroups', { err: String(e) });
  }
  await cleanupNetpol(runner).catch((e) => log.warn('network policy cleanup', { err: String(e) }));
  await cleanupNodeNetworking(runner, { clusterCidr: o.clusterCidr, removeCniCache: true });
  await unmountUnder(runner, o.dataDir);
  log.info('killall done', { dataDir: o.dataDir });
}
