// /stats/summary: node CPU and memory from /proc, pod and container usage from CRI ListContainerStats. The shape
// is the kubelet's Summary API (the fields metrics consumers read).
import { readFileSync } from 'node:fs';
import type { CriRuntime } from '../cri/types.ts';
import { L_CONTAINER_NAME, L_POD_NAME, L_POD_NAMESPACE, L_POD_UID } from '../kubelet/labels.ts';

export interface CpuStats { time: string; usageCoreNanoSeconds?: number; usageNanoCores?: number }
export interface MemoryStats { time: string; workingSetBytes?: number; usageBytes?: number; rssBytes?: number; availableBytes?: number }
export interface FsStats { time: string; usedBytes?: number; inodesUsed?: number }
export interface ContainerSummary { name: string; cpu?: CpuStats; memory?: MemoryStats; rootfs?: FsStats }
export interface PodSummary { podRef: { name: string; namespace: string; uid: string }; containers: ContainerSummary[]; cpu?: CpuStats; memory?: MemoryStats }
export interface Summary { node: { nodeName: string; cpu: CpuStats; memory: MemoryStats }; pods: PodSummary[] }

/** Host CPU time used (all CPUs, excluding idle and iowait) from /proc/stat, in nanoseconds. */
export function nodeCpuNanos(stat = readFileSync('/proc/stat', 'utf8')): number {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  const f = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) * 1e7; // USER_HZ = 100
}

export function nodeMemory(meminfo = readFileSync('/proc/meminfo', 'utf8')): MemoryStats {
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  const total = kb('MemTotal'), avail = kb('MemAvailable');
  return { time: new Date().toISOString(), workingSetBytes: total - avail, usageBytes: total - kb('MemFree'), availableBytes: avail };
}

const num = (v?: { value: string } | null) => (v ? Number(v.value) : undefined);

export async function summary(cri: CriRuntime, nodeName: string): Promise<Summary> {
  const now = new Date().toISOString();
  const stats = await cri.listContainerStats({});
  const pods = new Map<string, PodSummary>();
  for (const s of stats) {
    const l = s.attributes.labels ?? {};
    const uid = l[L_POD_UID];
    if (!uid) continue;
    let p = pods.get(uid);
    if (!p) {
      p = { podRef: { name: l[L_POD_NAME] ?? '', namespace: l[L_POD_NAMESPACE] ?? '', uid }, containers: [] };
      pods.set(uid, p);
    }
    const ts = (t?: string) => (t ? new Date(Number(BigInt(t) / 1_000_000n)).toISOString() : now);
    p.containers.push({
      name: l[L_CONTAINER_NAME] ?? s.attributes.metadata?.name ?? '',
      cpu: s.cpu ? { time: ts(s.cpu.timestamp), usageCoreNanoSeconds: num(s.cpu.usage_core_nano_seconds), usageNanoCores: num(s.cpu.usage_nano_cores) } : undefined,
      memory: s.memory ? { time: ts(s.memory.timestamp), workingSetBytes: num(s.memory.working_set_bytes), usageBytes: num(s.memory.usage_bytes), rssBytes: num(s.memory.rss_bytes) } : undefined,
      rootfs: s.writable_layer ? { time: ts(s.writable_layer.timestamp), usedBytes: num(s.writable_layer.used_bytes), inodesUsed: num(s.writable_layer.inodes_used) } : undefined,
    });
  }
  for (const p of pods.values()) {
    p.cpu = { time: now, usageCoreNanoSeconds: p.containers.reduce((a, c) => a + (c.cpu?.usageCoreNanoSeconds ?? 0), 0) };
    p.memory = { time: now, workingSetBytes: p.containers.reduce((a, c) => a + (c.memory?.workingSetBytes ?? 0), 0) };
  }
  return { node: { nodeName, cpu: { time: now, usageCoreNanoSeconds: nodeCpuNanos() }, memory: nodeMemory() }, pods: [...pods.values()] };
}
