// Labels and annotations the kubelet puts on CRI sandboxes and containers (the upstream kubelet's names, so tools
// such as crictl show familiar columns), plus the container hash that detects spec changes.
import { createHash } from 'node:crypto';
import type { ContainerSpec } from './pod-types.ts';

export const L_POD_NAME = 'io.kubernetes.pod.name';
export const L_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const L_POD_UID = 'io.kubernetes.pod.uid';
export const L_CONTAINER_NAME = 'io.kubernetes.container.name';
export const L_MANAGED = 'io.tsk.managed';
export const A_HASH = 'io.kubernetes.container.hash';
export const A_KIND = 'io.tsk.container.kind';
export const A_GRACE = 'io.kubernetes.pod.terminationGracePeriod';

export type ContainerKind = 'init' | 'sidecar' | 'regular' | 'ephemeral';

/** A short hash of the container spec; a different hash means the container must be recreated. */
export function containerHash(c: ContainerSpec): string {
  const { resources: _r, ...rest } = c;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}
