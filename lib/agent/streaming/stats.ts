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

/**
 * /metrics/resource: the kubelet's resource metrics endpoint (what metrics-server scrapes), in Prometheus text with
 * upstream's series names and HELP texts, each sample stamped with its measurement time (ms).
 */
export function resourceMetrics(s: Summary): string {
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const labels = (l: Record<string, string>) => `{${Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}`;
  const at = (t: string) => Date.parse(t);
  const out: string[] = [];
  const family = (name: string, type: string, help: string, samples: [Record<string, string> | undefined, number | undefined, string][]) => {
    out.push(`# HELP ${name} [STABLE] ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v, t] of samples) if (v !== undefined) out.push(`${name}${l ? labels(l) : ''} ${v} ${at(t)}`);
  };
  const containers = s.pods.flatMap((p) => p.containers.map((c) => ({ p, c, l: { container: c.name, namespace: p.podRef.namespace, pod: p.podRef.name } })));
  const secs = (n?: number) => (n === undefined ? undefined : n / 1e9);
  family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the container in core-seconds',
    containers.map(({ c, l }) => [l, secs(c.cpu?.usageCoreNanoSeconds), c.cpu?.time ?? '']));
  family('container_memory_working_set_bytes', 'gauge', 'Current working set of the container in bytes',
    containers.map(({ c, l }) => [l, c.memory?.workingSetBytes, c.memory?.time ?? '']));
  family('node_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the node in core-seconds', [[undefined, secs(s.node.cpu.usageCoreNanoSeconds), s.node.cpu.time]]);
  family('node_memory_working_set_bytes', 'gauge', 'Current working set of the node in bytes', [[undefined, s.node.memory.workingSetBytes, s.node.memory.time]]);
  const podLabels = (p: PodSummary) => ({ namespace: p.podRef.namespace, pod: p.podRef.name });
  family('pod_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the pod in core-seconds', s.pods.map((p) => [podLabels(p), secs(p.cpu?.usageCoreNanoSeconds), p.cpu?.time ?? '']));
  family('pod_memory_working_set_bytes', 'gauge', 'Current working set of the pod in bytes', s.pods.map((p) => [podLabels(p), p.memory?.workingSetBytes, p.memory?.time ?? '']));
  out.push('# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise', '# TYPE resource_scrape_error gauge', 'resource_scrape_error 0');
  return `${out.join('\n')}\n`;
}
