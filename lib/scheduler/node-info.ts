// What the scheduler knows about one node: the node, the pods bound (or assumed) to it, their summed requests and
// the host ports they use. The scheduler keeps one per node and rebuilds it only when the node or its pods change.
import type { KubeObject } from '../client/types.ts';
import { toUnits } from './quantity.ts';

export type Resources = Record<string, number>;

export interface NodeInfo {
  node: KubeObject;
  pods: KubeObject[];
  requested: Resources;
  /** "protocol/hostIP/port" of every used host port. */
  usedPorts: { protocol: string; hostIP: string; port: number }[];
  /** Pods with required anti-affinity terms (usually none): what every other pod is checked against. */
  antiAffinityPods: KubeObject[];
  /** Summed requests with the non-zero defaults (100m CPU, 200 MiB) for pods that request nothing: the
   * allocation scores spread by these. */
  nonZero: { cpu: number; memory: number };
}

// Pods without requests count as 100m CPU / 200 MiB for spreading by allocation (k8s non-zero defaults).
export const DEFAULT_CPU = 100;
export const DEFAULT_MEM = 200 * 1024 * 1024;

const isTerminal = (p: KubeObject) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

function containerRequests(c: KubeObject | undefined): Resources {
  const out: Resources = {};
  const req = c?.resources?.requests ?? {};
  const lim = c?.resources?.limits ?? {};
  // A limit without a request defaults the request to the limit (API defaulting does this too).
  for (const [k, v] of Object.entries({ ...lim, ...req })) out[k] = toUnits(k, v as string);
  return out;
}

/** Effective pod requests: max(sum of containers (+ sidecar init containers), each init container) + overhead. */
// Informer objects are deep-frozen, so a changed pod is a new object: its requests can be computed once. Without
// this the scheduler re-parsed every bound pod's quantities on each cycle (bench:scale's top profile entry).
const requestsCache = new WeakMap<object, Resources>();

export function podRequests(pod: KubeObject): Resources {
  const frozen = Object.isFrozen(pod) && Object.isFrozen(pod.spec ?? {});
  const hit = frozen ? requestsCache.get(pod) : undefined;
  if (hit) return { ...hit };
  const sum = computePodRequests(pod);
  if (frozen) requestsCache.set(pod, sum);
  return { ...sum };
}

function computePodRequests(pod: KubeObject): Resources {
  const sum: Resources = {};
  const add = (to: Resources, r: Resources) => { for (const [k, v] of Object.entries(r)) to[k] = (to[k] ?? 0) + v; };
  for (const c of pod.spec?.containers ?? []) add(sum, containerRequests(c));
  const initMax: Resources = {};
  const sidecars: Resources = {};
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c);
    if (c.restartPolicy === 'Always') { add(sidecars, r); continue; }
    for (const [k, v] of Object.entries(r)) initMax[k] = Math.max(initMax[k] ?? 0, v + (sidecars[k] ?? 0));
  }
  add(sum, sidecars);
  for (const [k, v] of Object.entries(initMax)) sum[k] = Math.max(sum[k] ?? 0, v);
  const overhead: Record<string, string> = pod.spec?.overhead ?? {};
  for (const [k, v] of Object.entries(overhead)) sum[k] = (sum[k] ?? 0) + toUnits(k, v);
  return sum;
}

const hostPortsCache = new WeakMap<object, { protocol: string; hostIP: string; port: number }[]>();

export function podHostPorts(pod: KubeObject): { protocol: string; hostIP: string; port: number }[] {
  const frozen = Object.isFrozen(pod);
  const hit = frozen ? hostPortsCache.get(pod) : undefined;
  if (hit) return hit;
  const ports = computeHostPorts(pod);
  if (frozen) hostPortsCache.set(pod, ports);
  return ports;
}

function computeHostPorts(pod: KubeObject): { protocol: string; hostIP: string; port: number }[] {
  const out: { protocol: string; hostIP: string; port: number }[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) if (p.hostPort) out.push({ protocol: p.protocol ?? 'TCP', hostIP: p.hostIP || '0.0.0.0', port: p.hostPort });
  }
  return out;
}

const allocatableCache = new WeakMap<object, Resources>();

/** The node's allocatable resources in units (cached per frozen node object; do not change the result). */
export function nodeAllocatable(node: KubeObject): Resources {
  const hit = allocatableCache.get(node);
  if (hit) return hit;
  const out = computeAllocatable(node);
  if (Object.isFrozen(node)) allocatableCache.set(node, out);
  return out;
}

function computeAllocatable(node: KubeObject): Resources {
  const a: Record<string, string> = node.status?.allocatable ?? node.status?.capacity ?? {};
  const out: Resources = {};
  for (const [k, v] of Object.entries(a)) out[k] = toUnits(k, v);
  return out;
}

export function newNodeInfo(node: KubeObject, pods: readonly KubeObject[] = []): NodeInfo {
  const info: NodeInfo = { node, pods: [], requested: { pods: 0 }, usedPorts: [], antiAffinityPods: [], nonZero: { cpu: 0, memory: 0 } };
  for (const p of pods) addPod(info, p);
  return info;
}

export function addPod(info: NodeInfo, pod: KubeObject): void {
  if (isTerminal(pod)) return;
  info.pods.push(pod);
  const r = podRequests(pod);
  for (const [k, v] of Object.entries(r)) info.requested[k] = (info.requested[k] ?? 0) + v;
  info.requested.pods = (info.requested.pods ?? 0) + 1;
  info.nonZero.cpu += r.cpu || DEFAULT_CPU;
  info.nonZero.memory += r.memory || DEFAULT_MEM;
  const ports = podHostPorts(pod);
  if (ports.length) info.usedPorts.push(...ports);
  if (hasRequiredAntiAffinity(pod)) info.antiAffinityPods.push(pod);
}

const hasRequiredAntiAffinity = (pod: KubeObject) => (pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;

/** A copy that can be changed (pods added or removed) without touching the snapshot it came from. */
export function cloneNodeInfo(info: NodeInfo): NodeInfo {
  return {
    node: info.node, pods: [...info.pods], requested: { ...info.requested }, usedPorts: [...info.usedPorts],
    antiAffinityPods: [...info.antiAffinityPods], nonZero: { ...info.nonZero },
  };
}

/** Takes a pod (by uid, else namespace/name) off the node; false when it was not there. */
export function removePod(info: NodeInfo, pod: KubeObject): boolean {
  const same = (p: KubeObject) => (pod.metadata.uid ? p.metadata.uid === pod.metadata.uid : p.metadata.namespace === pod.metadata.namespace && p.metadata.name === pod.metadata.name);
  const i = info.pods.findIndex(same);
  if (i < 0) return false;
  info.pods.splice(i, 1);
  const r = podRequests(pod);
  for (const [k, v] of Object.entries(r)) info.requested[k] = (info.requested[k] ?? 0) - v;
  info.requested.pods = (info.requested.pods ?? 0) - 1;
  info.nonZero.cpu -= r.cpu || DEFAULT_CPU;
  info.nonZero.memory -= r.memory || DEFAULT_MEM;
  const k = info.antiAffinityPods.findIndex(same);
  if (k >= 0) info.antiAffinityPods.splice(k, 1);
  for (const port of podHostPorts(pod)) {
    const j = info.usedPorts.findIndex((u) => u.port === port.port && u.protocol === port.protocol && u.hostIP === port.hostIP);
    if (j >= 0) info.usedPorts.splice(j, 1);
  }
  return true;
}
