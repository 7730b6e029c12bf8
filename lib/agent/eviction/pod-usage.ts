// Per-pod usage for ranking, from the same CRI container stats as /stats/summary (memory working set, writable
// layer), plus — for disk and pid pressure only — pod log and emptyDir bytes and the pod cgroup's process count.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CriRuntime } from '../cri/types.ts';
import { summary } from '../streaming/stats.ts';
import type { Resource } from './thresholds.ts';
import type { PodUsage, UsageByPod } from './rank.ts';

/** Bytes under dir (files counted once, symlinks not followed); bounded to 100,000 entries. */
export function duBytes(dir: string, budget = { left: 100_000 }): number {
  let total = 0;
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return 0; }
  for (const e of entries) {
    if (--budget.left < 0) break;
    const p = join(dir, e.name);
    if (e.isDirectory()) total += duBytes(p, budget);
    else { try { total += lstatSync(p).blocks * 512; } catch { /* gone */ } }
  }
  return total;
}

function podProcesses(cgroupRoot: string, uid: string): number | undefined {
  for (const qos of ['', 'burstable/', 'besteffort/']) {
    try { return Number(readFileSync(join(cgroupRoot, 'pids', 'kubepods', `${qos}pod${uid}`, 'pids.current'), 'utf8').trim()); } catch { /* next */ }
  }
  return undefined;
}

export interface PodUsageSources {
  cri: Pick<CriRuntime, 'listContainerStats'>;
  nodeName: string;
  /** <data-dir>/agent/pod-logs and <data-dir>/agent/pods. */
  logsDir: string;
  podsDir: string;
  cgroupRoot?: string;
}

export async function podUsage(s: PodUsageSources, resource: Resource): Promise<UsageByPod> {
  const sum = await summary(s.cri as CriRuntime, s.nodeName);
  const out: UsageByPod = new Map();
  const disk = resource === 'ephemeral-storage' || resource === 'inodes';
  const logDirs = new Map<string, string>();
  if (disk) {
    try { for (const d of readdirSync(s.logsDir)) { const uid = d.split('_')[2]; if (uid) logDirs.set(uid, join(s.logsDir, d)); } } catch { /* none */ }
  }
  for (const p of sum.pods) {
    const uid = p.podRef.uid;
    const u: PodUsage = { containers: [], memoryBytes: p.memory?.workingSetBytes };
    const logDir = logDirs.get(uid);
    let diskTotal = 0;
    for (const c of p.containers) {
      const logs = disk && logDir ? duBytes(join(logDir, c.name)) : 0;
      const diskBytes = (c.rootfs?.usedBytes ?? 0) + logs;
      diskTotal += diskBytes;
      u.containers.push({ name: c.name, memoryBytes: c.memory?.workingSetBytes, diskBytes });
    }
    if (disk) u.diskBytes = diskTotal + duBytes(join(s.podsDir, uid, 'volumes', 'empty-dir'));
    if (resource === 'pids') u.processes = podProcesses(s.cgroupRoot ?? '/sys/fs/cgroup', uid);
    out.set(uid, u);
  }
  return out;
}
