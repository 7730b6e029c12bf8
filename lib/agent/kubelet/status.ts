// Pod status from the runtime state, probe results and the reasons the kubelet is waiting (pure).
import { isSidecar, type ContainerSpec, type ContainerStateJson, type ContainerStatusJson, type Pod, type PodCondition, type PodStatus } from './pod-types.ts';
import type { PodRuntimeState, RuntimeContainer } from './runtime-state.ts';

export interface StatusContext {
  now: number;
  hostIP?: string;
  ready(name: string, id: string): boolean;
  started(name: string, id: string): boolean;
  /** Why a container is waiting instead of running: CrashLoopBackOff, ErrImagePull, ImagePullBackOff, CreateContainerConfigError... */
  waiting: Map<string, { reason: string; message?: string }>;
  /** The container's termination message (terminationMessagePath file, or log tail per policy). */
  terminationMessage?(c: RuntimeContainer): string | undefined;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function terminatedOf(c: RuntimeContainer, ctx: StatusContext): ContainerStateJson {
  const reason = c.reason === 'OOMKilled' ? 'OOMKilled' : c.reason || (c.exitCode === 0 ? 'Completed' : 'Error');
  const message = ctx.terminationMessage?.(c) || c.message;
  return {
    terminated: {
      exitCode: c.exitCode, reason, ...(message ? { message } : {}),
      startedAt: c.startedAt ? iso(c.startedAt) : undefined, finishedAt: c.finishedAt ? iso(c.finishedAt) : undefined, containerID: `containerd://${c.id}`,
    },
  };
}

function containerStatus(spec: ContainerSpec, all: RuntimeContainer[], ctx: StatusContext, prev: ContainerStatusJson | undefined, defaultWaiting: string): ContainerStatusJson {
  const mine = all.filter((c) => c.name === spec.name);
  const latest = mine[0];
  const previous = mine[1];
  const waiting = ctx.waiting.get(spec.name);
  let state: ContainerStateJson;
  let lastState: ContainerStateJson = previous && previous.state === 'CONTAINER_EXITED' ? terminatedOf(previous, ctx) : (prev?.lastState ?? {});
  if (!latest) {
    state = { waiting: { reason: waiting?.reason ?? defaultWaiting, ...(waiting?.message ? { message: waiting.message } : {}) } };
  } else if (latest.state === 'CONTAINER_RUNNING') {
    state = { running: { startedAt: iso(latest.startedAt || latest.createdAt) } };
  } else if (latest.state === 'CONTAINER_EXITED') {
    if (waiting) {
      state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
      lastState = terminatedOf(latest, ctx);
    } else {
      state = terminatedOf(latest, ctx);
    }
  } else {
    state = { waiting: { reason: waiting?.reason ?? 'ContainerCreating' } };
  }
  const running = latest?.state === 'CONTAINER_RUNNING';
  const started = running && ctx.started(spec.name, latest.id);
  const restartCount = latest ? Math.max(latest.attempt, prev?.restartCount ?? 0) : (prev?.restartCount ?? 0);
  return {
    name: spec.name,
    state,
    lastState,
    ready: running && started && ctx.ready(spec.name, latest.id),
    restartCount,
    image: spec.image,
    imageID: latest?.imageRef ?? '',
    ...(latest ? { containerID: `containerd://${latest.id}` } : {}),
    started,
  };
}

/** Pod condition types the kubelet computes; every other condition in the status is carried over. */
const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

function condition(type: string, ok: boolean, prev: PodCondition[] | undefined, now: number, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const old = prev?.find((c) => c.type === type);
  return {
    type, status, lastProbeTime: null,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : iso(now),
    ...(!ok && reason ? { reason } : {}),
    ...(!ok && message ? { message } : {}),
  };
}

/** Why the pod's readiness gates hold Ready back (upstream messages), or undefined when every gate's condition is True. */
export function readinessGatesMessage(pod: Pod, conditions: readonly PodCondition[] | undefined): string | undefined {
  const gates = (pod.spec as { readinessGates?: { conditionType: string }[] }).readinessGates ?? [];
  const unready: string[] = [];
  for (const g of gates) {
    const c = conditions?.find((x) => x.type === g.conditionType);
    if (!c) unready.push(`corresponding condition of pod readiness gate ${JSON.stringify(g.conditionType)} does not exist.`);
    else if (c.status !== 'True') unready.push(`the status of pod readiness gate ${JSON.stringify(g.conditionType)} is not "True", but ${c.status}`);
  }
  return unready.length ? unready.join(', ') : undefined;
}

export function computePodStatus(pod: Pod, state: PodRuntimeState, ctx: StatusContext): PodStatus {
  const prev = pod.status ?? {};
  const sandbox = state.sandboxes[0];
  const inSb = sandbox ? state.containers.filter((c) => c.sandboxId === sandbox.id) : [];
  const all = state.containers;
  const inits = pod.spec.initContainers ?? [];
  const initStatuses = inits.map((s) => containerStatus(s, all, ctx, prev.initContainerStatuses?.find((p) => p.name === s.name), 'PodInitializing'));
  const regularStarted = pod.spec.containers.some((s) => inSb.some((c) => c.name === s.name));
  const initDone = regularStarted || inits.every((s, i) => {
    const st = initStatuses[i]!;
    return isSidecar(s) ? st.started === true : st.state.terminated?.exitCode === 0;
  });
  const statuses = pod.spec.containers.map((s) => containerStatus(s, all, ctx, prev.containerStatuses?.find((p) => p.name === s.name), initDone ? 'ContainerCreating' : 'PodInitializing'));
  // Ephemeral containers are never ready and never restarted; they count for neither the phase nor readiness.
  const ephemeral = (pod.spec.ephemeralContainers ?? []).map((s) => ({ ...containerStatus(s, all, ctx, prev.ephemeralContainerStatuses?.find((p) => p.name === s.name), 'ContainerCreating'), ready: false }));

  const phase = computePhase(pod, initStatuses, statuses, initDone);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const sidecarsReady = inits.filter(isSidecar).every((s) => initStatuses[inits.indexOf(s)]!.ready);
  const containersReady = !terminal && initDone && statuses.every((s) => s.ready) && sidecarsReady;
  const sandboxReady = !!sandbox && sandbox.state === 'SANDBOX_READY';
  const conds = prev.conditions;
  const now = ctx.now;
  const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
  // Ready also needs every readiness gate's condition (set by other controllers) to be True.
  const gatesMessage = containersReady ? readinessGatesMessage(pod, conds) : undefined;
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', sandboxReady, conds, now),
    condition('Initialized', initDone, conds, now, terminal ? 'PodCompleted' : 'ContainersNotInitialized'),
    gatesMessage
      ? condition('Ready', false, conds, now, 'ReadinessGatesNotReady', gatesMessage)
      : condition('Ready', containersReady, conds, now, notReadyReason),
    condition('ContainersReady', containersReady, conds, now, notReadyReason),
    conds?.find((c) => c.type === 'PodScheduled') ?? { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: iso(now) },
    // Conditions others own (DisruptionTarget from the scheduler or an eviction, readiness gates) are kept, as the
    // kubelet does.
    ...(conds ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type)),
  ];
  const podIP = pod.spec.hostNetwork ? ctx.hostIP : (sandboxReady ? sandbox.ip : undefined) ?? prev.podIP;
  return {
    phase,
    conditions,
    ...(ctx.hostIP ? { hostIP: ctx.hostIP, hostIPs: [{ ip: ctx.hostIP }] } : {}),
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: prev.startTime ?? iso(now),
    ...(inits.length ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    ...(ephemeral.length ? { ephemeralContainerStatuses: ephemeral } : {}),
    qosClass: prev.qosClass ?? qosClass(pod),
  };
}

export function computePhase(pod: Pod, inits: ContainerStatusJson[], statuses: ContainerStatusJson[], initDone: boolean): NonNullable<PodStatus['phase']> {
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return pod.status.phase;
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (!initDone) {
    const failed = inits.some((s) => s.state.terminated && s.state.terminated.exitCode !== 0);
    return failed && policy === 'Never' ? 'Failed' : 'Pending';
  }
  let running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const s of statuses) {
    if (s.state.running) running++;
    else if (s.state.terminated) { stopped++; if (s.state.terminated.exitCode === 0) succeeded++; }
    else if (s.state.waiting && s.lastState.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded && statuses.every((s) => s.state.terminated)) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const cs = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  const any = cs.some((c) => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length);
  if (!any) return 'BestEffort';
  const guaranteed = cs.every((c) => ['cpu', 'memory'].every((r) => {
    const lim = c.resources?.limits?.[r];
    const req = c.resources?.requests?.[r] ?? lim;
    return lim !== undefined && req === lim;
  }));
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Status equality that ignores key order. */
export function sameStatus(a: unknown, b: unknown): boolean {
  return stable(a) === stable(b);
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
