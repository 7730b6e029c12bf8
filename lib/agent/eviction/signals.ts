// Eviction signals from this machine (the one place that reads cgroups, /proc and statfs for them), computed as the
// kubelet does: memory.available = capacity − working set of the root cgroup (usage − inactive file); nodefs from
// statfs of the kubelet's root dir; imagefs from statfs of containerd's root; pid.available = pid_max − tasks.
import { readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { Observations } from './thresholds.ts';

export interface SignalSources {
  /** The kubelet's root directory (<data-dir>/agent). */
  nodefs: string;
  /** containerd's root (<data-dir>/agent/containerd), or the runtime's image filesystem mountpoint. */
  imagefs: string;
  cgroupRoot?: string;
  procRoot?: string;
}

const read = (p: string) => { try { return readFileSync(p, 'utf8'); } catch { return undefined; } };
const statLine = (text: string | undefined, key: string) => {
  const m = text && new RegExp(`^${key.replace(/[()]/g, '\\$&')}:?\\s+(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

/** Working set of the whole machine: cgroup v1 root memory.usage_in_bytes − total_inactive_file; else /proc/meminfo. */
export function memoryObservation(cgroupRoot: string, meminfo: string | undefined): { available: number; capacity: number } | undefined {
  const total = statLine(meminfo, 'MemTotal');
  if (total === undefined) return undefined;
  const capacity = total * 1024;
  const usage = read(join(cgroupRoot, 'memory', 'memory.usage_in_bytes'));
  const inactive = statLine(read(join(cgroupRoot, 'memory', 'memory.stat')), 'total_inactive_file');
  let workingSet: number;
  if (usage !== undefined && inactive !== undefined) {
    workingSet = Math.max(0, Number(usage.trim()) - inactive);
  } else {
    const free = (statLine(meminfo, 'MemFree') ?? 0) * 1024;
    const inactiveFile = (statLine(meminfo, 'Inactive(file)') ?? 0) * 1024;
    workingSet = Math.max(0, capacity - free - inactiveFile);
  }
  return { available: Math.max(0, capacity - workingSet), capacity };
}

function fsObservations(prefix: 'nodefs' | 'imagefs', path: string, out: Observations): void {
  try {
    const s = statfsSync(path);
    out[`${prefix}.available`] = { available: s.bavail * s.bsize, capacity: s.blocks * s.bsize };
    if (s.files > 0) out[`${prefix}.inodesFree`] = { available: s.ffree, capacity: s.files };
  } catch { /* directory missing: no observation */ }
}

export function pidObservation(procRoot: string): { available: number; capacity: number } | undefined {
  const pidMax = Number(read(join(procRoot, 'sys/kernel/pid_max'))?.trim());
  const threadsMax = Number(read(join(procRoot, 'sys/kernel/threads-max'))?.trim());
  const tasks = Number(/\d+\/(\d+)/.exec(read(join(procRoot, 'loadavg')) ?? '')?.[1]);
  if (!pidMax || !Number.isFinite(tasks)) return undefined;
  const capacity = threadsMax > 0 ? Math.min(pidMax, threadsMax) : pidMax;
  return { available: Math.max(0, capacity - tasks), capacity };
}

export function observeSignals(s: SignalSources): Observations {
  const proc = s.procRoot ?? '/proc';
  const out: Observations = {};
  const mem = memoryObservation(s.cgroupRoot ?? '/sys/fs/cgroup', read(join(proc, 'meminfo')));
  if (mem) out['memory.available'] = mem;
  fsObservations('nodefs', s.nodefs, out);
  fsObservations('imagefs', s.imagefs, out);
  const pid = pidObservation(proc);
  if (pid) out['pid.available'] = pid;
  return out;
}
