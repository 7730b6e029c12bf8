// Pure helpers of the Job controller: pod construction (labels, owner, tracking finalizer, Indexed completion
// index), pod failure semantics, completed-index sets and the pod re-creation backoff.
import type { KubeObject } from '../client/types.ts';
import { ownerRefFor } from './controller-revision.ts';

export const TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
export const INDEX_FAILURE_COUNT = 'batch.kubernetes.io/job-index-failure-count';

/** Failures of the pod's index before this pod (backoffLimitPerIndex). */
export const podIndexFailures = (pod: KubeObject): number => Number(pod.metadata.annotations?.[INDEX_FAILURE_COUNT] ?? 0) || 0;
export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_MAX_MS = 360_000;

export const isIndexed = (job: KubeObject): boolean => job.spec?.completionMode === 'Indexed';

/** A pod counts as failed when it failed, or when it is being deleted before succeeding (Kubernetes' default). */
export const isPodFailed = (pod: KubeObject): boolean =>
  pod.status?.phase === 'Failed' || (!!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded');

export function podIndex(pod: KubeObject): number | undefined {
  const v = pod.metadata.annotations?.[COMPLETION_INDEX] ?? pod.metadata.labels?.[COMPLETION_INDEX];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** Delay before creating pods again after `failures` consecutive failures: 10 s doubling, at most 6 min. */
export function backoffDelay(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 20), BACKOFF_MAX_MS);
}

/** When the pod finished: its last container's finishedAt, its deletion time, or undefined. */
export function podFinishTime(pod: KubeObject): number | undefined {
  let t: number | undefined;
  for (const cs of (pod.status?.containerStatuses ?? []) as { state?: { terminated?: { finishedAt?: string } } }[]) {
    const f = cs.state?.terminated?.finishedAt ? Date.parse(cs.state.terminated.finishedAt) : undefined;
    if (f !== undefined && (t === undefined || f > t)) t = f;
  }
  if (t === undefined && pod.metadata.deletionTimestamp) t = Date.parse(pod.metadata.deletionTimestamp);
  return t;
}

export function jobPodLabels(job: KubeObject): Record<string, string> {
  const uid = job.metadata.uid!, name = job.metadata.name!;
  return { 'batch.kubernetes.io/controller-uid': uid, 'controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'job-name': name };
}

/** The pod to create for job (and completion index when Indexed). */
export function newJobPod(job: KubeObject, index?: number, indexFailures?: number): KubeObject {
  const tmpl = structuredClone(job.spec?.template ?? {}) as KubeObject;
  const meta = tmpl.metadata ?? {};
  const spec = structuredClone(tmpl.spec ?? {});
  const labels: Record<string, string> = { ...(meta.labels ?? {}), ...jobPodLabels(job) };
  const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
  let generateName = `${job.metadata.name}-`;
  if (index !== undefined) {
    annotations[COMPLETION_INDEX] = String(index);
    if (job.spec?.backoffLimitPerIndex !== undefined && job.spec?.backoffLimitPerIndex !== null) annotations[INDEX_FAILURE_COUNT] = String(indexFailures ?? 0);
    labels[COMPLETION_INDEX] = String(index);
    generateName = `${job.metadata.name}-${index}-`;
    spec.hostname ??= `${job.metadata.name}-${index}`;
    const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } };
    for (const list of [spec.containers, spec.initContainers]) {
      for (const c of (list ?? []) as { env?: { name: string }[] }[]) {
        if (!(c.env ?? []).some((e) => e.name === 'JOB_COMPLETION_INDEX')) c.env = [...(c.env ?? []), env];
      }
    }
  }
  spec.restartPolicy ??= 'Never';
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName, namespace: job.metadata.namespace, labels, ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [ownerRefFor(job, 'Job', 'batch/v1')], finalizers: [TRACKING_FINALIZER],
    },
    spec,
  };
}

/** Parses "1,3-5" into a sorted set of indexes. */
export function parseIndexes(s: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b && i - a < 1_000_000; i++) out.add(i);
  }
  return out;
}

/** Formats indexes as "1,3-5". */
export function formatIndexes(set: Iterable<number>): string {
  const xs = [...set].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    parts.push(i === j ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export interface JobCondition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
}

/** Sets (or replaces) a condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(conds: JobCondition[], c: JobCondition, nowIso: string): JobCondition[] {
  const old = conds.find((x) => x.type === c.type);
  if (old && old.status === c.status && old.reason === c.reason && old.message === c.message) return conds;
  const next = { ...c, lastProbeTime: nowIso, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : nowIso };
  return old ? conds.map((x) => (x === old ? next : x)) : [...conds, next];
}

export const hasCondition = (obj: KubeObject, type: string): boolean =>
  ((obj.status?.conditions ?? []) as JobCondition[]).some((c) => c.type === type && c.status === 'True');

export const isJobFinished = (job: KubeObject): boolean => hasCondition(job, 'Complete') || hasCondition(job, 'Failed');

export interface PodFailureMatch {
  action: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';
  message: string;
}

/** The first spec.podFailurePolicy rule a failed pod matches (exit codes of non-zero terminated containers, pod conditions). */
export function matchPodFailurePolicy(job: KubeObject, pod: KubeObject): PodFailureMatch | undefined {
  const rules = (job.spec?.podFailurePolicy?.rules ?? []) as {
    action: PodFailureMatch['action'];
    onExitCodes?: { containerName?: string; operator: 'In' | 'NotIn'; values: number[] };
    onPodConditions?: { type: string; status?: string }[];
  }[];
  const who = `${pod.metadata.namespace}/${pod.metadata.name}`;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])] as { name: string; state?: { terminated?: { exitCode?: number } } }[];
  for (const [i, r] of rules.entries()) {
    if (r.onExitCodes) {
      const e = r.onExitCodes;
      const hit = statuses.find((c) => {
        const code = c.state?.terminated?.exitCode;
        if (code === undefined || code === 0 || (e.containerName && e.containerName !== c.name)) return false;
        return e.operator === 'In' ? e.values.includes(code) : !e.values.includes(code);
      });
      if (hit) return { action: r.action, message: `Container ${hit.name} for pod ${who} failed with exit code ${hit.state!.terminated!.exitCode} matching ${r.action} rule at index ${i}` };
    }
    for (const pc of r.onPodConditions ?? []) {
      const c = ((pod.status?.conditions ?? []) as { type: string; status: string }[]).find((x) => x.type === pc.type && x.status === (pc.status ?? 'True'));
      if (c) return { action: r.action, message: `Pod ${who} has condition ${pc.type} matching ${r.action} rule at index ${i}` };
    }
  }
  return undefined;
}

/** The index of the first spec.successPolicy rule the completed indexes satisfy (Indexed jobs), if any. */
export function matchSuccessPolicy(job: KubeObject, completed: Set<number>): number | undefined {
  const rules = (job.spec?.successPolicy?.rules ?? []) as { succeededIndexes?: string; succeededCount?: number }[];
  for (const [i, r] of rules.entries()) {
    if (r.succeededIndexes !== undefined) {
      const want = [...parseIndexes(r.succeededIndexes)];
      const have = want.filter((x) => completed.has(x)).length;
      if (r.succeededCount !== undefined ? have >= r.succeededCount : have === want.length && want.length > 0) return i;
    } else if (r.succeededCount !== undefined && completed.size >= r.succeededCount) return i;
  }
  return undefined;
}

/** spec.backoffLimitPerIndex of an Indexed job, if set. */
export const perIndexLimit = (job: KubeObject): number | undefined =>
  isIndexed(job) && typeof job.spec?.backoffLimitPerIndex === 'number' ? job.spec.backoffLimitPerIndex : undefined;
