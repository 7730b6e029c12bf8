// Taints and tolerations (core/v1 semantics).
import type { KubeObject } from '../client/types.ts';

export interface Taint { key: string; value?: string; effect: string; timeAdded?: string }
export interface Toleration { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number }

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

export const toleratedBy = (tols: readonly Toleration[] | undefined, taint: Taint): boolean =>
  (tols ?? []).some((t) => tolerates(t, taint));

/** The node's taints, plus the not-ready/unschedulable ones implied by its status when the node controller has not added them yet. */
export function effectiveTaints(node: KubeObject): Taint[] {
  const taints: Taint[] = [...(node.spec?.taints ?? [])];
  const ready = (node.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
  if (ready && ready.status !== 'True') {
    const key = ready.status === 'False' ? 'node.kubernetes.io/not-ready' : 'node.kubernetes.io/unreachable';
    if (!taints.some((t) => t.key === key && t.effect === 'NoSchedule')) taints.push({ key, effect: 'NoSchedule' });
  }
  return taints;
}

export const formatTaint = (t: Taint): string => `{${t.key}: ${t.value ?? ''}}`;
