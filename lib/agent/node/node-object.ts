// The Node object this kubelet registers and the status it reports (pure).
import { VERSION } from '../../config.ts';
import type { KubeObject } from '../../client/types.ts';
import type { MachineFacts } from './facts.ts';

export interface NodeIdentity {
  nodeName: string;
  nodeIP: string;
  /** Servers carry node-role.kubernetes.io/control-plane=true. */
  controlPlane?: boolean;
  /** Extra labels, key=value. */
  labels?: string[];
  /** Taints the Node is registered with (`--node-taint key[=value]:Effect`), as the kubelet's --register-with-taints. */
  taints?: string[];
  containerRuntimeVersion: string;
  maxPods?: number;
}

export interface RuntimeHealth { runtimeReady: boolean; networkReady: boolean; message?: string }

/** Pressure conditions reported True (from the eviction manager, lib/agent/eviction). */
export type NodePressure = ReadonlySet<'MemoryPressure' | 'DiskPressure' | 'PIDPressure'>;

/** What allocatable holds back from capacity: the hard eviction thresholds of memory.available and nodefs.available. */
export interface EvictionReserve { memoryBytes(capacity: number): number; ephemeralBytes(capacity: number): number }

export const DEFAULT_RESERVE: EvictionReserve = { memoryBytes: () => EVICTION_MEMORY, ephemeralBytes: (c) => Math.ceil(c * 0.1) };

const ki = (bytes: number) => `${Math.floor(bytes / 1024)}Ki`;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
export const EVICTION_MEMORY = 100 * 1024 * 1024;

export function nodeLabels(id: NodeIdentity, facts: Pick<MachineFacts, 'arch'>): Record<string, string> {
  const labels: Record<string, string> = {
    'kubernetes.io/arch': facts.arch, 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': id.nodeName,
    'beta.kubernetes.io/arch': facts.arch, 'beta.kubernetes.io/os': 'linux',
  };
  if (id.controlPlane) labels['node-role.kubernetes.io/control-plane'] = 'true';
  for (const l of id.labels ?? []) {
    const i = l.indexOf('=');
    if (i > 0) labels[l.slice(0, i)] = l.slice(i + 1);
  }
  return labels;
}

export function newNode(id: NodeIdentity, facts: MachineFacts): KubeObject {
  const taints = (id.taints ?? []).map(parseTaint);
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: id.nodeName, labels: nodeLabels(id, facts), annotations: { 'node.alpha.kubernetes.io/ttl': '0' } }, spec: taints.length ? { taints } : {} };
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const QUALIFIED = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** `key[=value]:Effect` as a Node taint; throws with the kubelet's wording when it is not one. */
export function parseTaint(spec: string): { key: string; value?: string; effect: string } {
  const colon = spec.lastIndexOf(':');
  const effect = colon < 0 ? '' : spec.slice(colon + 1);
  const kv = colon < 0 ? spec : spec.slice(0, colon);
  const eq = kv.indexOf('=');
  const key = eq < 0 ? kv : kv.slice(0, eq);
  const value = eq < 0 ? undefined : kv.slice(eq + 1);
  if (colon < 0 || !TAINT_EFFECTS.includes(effect)) throw new Error(`invalid taint spec: ${spec}: the effect must be one of ${TAINT_EFFECTS.join(', ')}`);
  if (!QUALIFIED.test(key) || key.length > 316) throw new Error(`invalid taint spec: ${spec}: invalid taint key ${JSON.stringify(key)}`);
  if (value !== undefined && (value.length > 63 || !/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value))) throw new Error(`invalid taint spec: ${spec}: invalid taint value ${JSON.stringify(value)}`);
  return value ? { key, value, effect } : { key, effect };
}

interface Condition { type: string; status: string; reason: string; message: string; lastHeartbeatTime: string; lastTransitionTime: string }

/** Node status; lastTransitionTime kept from prev when a condition keeps its status. */
export function nodeStatus(id: NodeIdentity, facts: MachineFacts, health: RuntimeHealth, now: number, prev?: { conditions?: Condition[] }, pressure: NodePressure = new Set(), reserve: EvictionReserve = DEFAULT_RESERVE): KubeObject['status'] {
  const cond = (type: string, bad: boolean, okReason: string, okMsg: string, badReason: string, badMsg: string, inverted = false): Condition => {
    const status = inverted ? (bad ? 'False' : 'True') : bad ? 'True' : 'False';
    const old = prev?.conditions?.find((c) => c.type === type);
    return {
      type, status, reason: bad ? badReason : okReason, message: bad ? badMsg : okMsg, lastHeartbeatTime: iso(now),
      lastTransitionTime: old && old.status === status ? old.lastTransitionTime : iso(now),
    };
  };
  const memPressure = pressure.has('MemoryPressure');
  const diskPressure = pressure.has('DiskPressure');
  const notReady = !health.runtimeReady || !health.networkReady;
  const capacity = { cpu: String(facts.cpus), memory: ki(facts.memoryBytes), pods: String(id.maxPods ?? 110), 'ephemeral-storage': ki(facts.diskBytes) };
  return {
    capacity,
    allocatable: {
      ...capacity, memory: ki(Math.max(0, facts.memoryBytes - reserve.memoryBytes(facts.memoryBytes))),
      'ephemeral-storage': String(Math.max(0, Math.floor(facts.diskBytes - reserve.ephemeralBytes(facts.diskBytes)))),
    },
    conditions: [
      cond('MemoryPressure', memPressure, 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'),
      cond('DiskPressure', diskPressure, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', 'KubeletHasDiskPressure', 'kubelet has disk pressure'),
      cond('PIDPressure', pressure.has('PIDPressure'), 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available'),
      cond('Ready', notReady, 'KubeletReady', 'kubelet is posting ready status', 'KubeletNotReady',
        health.message ?? `container runtime ${health.runtimeReady ? 'network not ready' : 'not ready'}`, true),
    ],
    addresses: [{ type: 'InternalIP', address: id.nodeIP }, { type: 'Hostname', address: id.nodeName }],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: facts.machineID, systemUUID: facts.systemUUID, bootID: facts.bootID, kernelVersion: facts.kernelVersion, osImage: facts.osImage,
      containerRuntimeVersion: id.containerRuntimeVersion, kubeletVersion: VERSION.gitVersion, kubeProxyVersion: VERSION.gitVersion,
      operatingSystem: 'linux', architecture: facts.arch,
    },
  };
}

/** True when the status differs in anything but heartbeat times (and small drifts of free memory/disk). */
export function statusChanged(a: KubeObject['status'] | undefined, b: KubeObject['status']): boolean {
  const strip = (s: KubeObject['status'] | undefined) => JSON.stringify(s ? { ...s, conditions: (s.conditions ?? []).map((c: Condition) => ({ type: c.type, status: c.status, reason: c.reason })) } : null);
  return strip(a) !== strip(b);
}
