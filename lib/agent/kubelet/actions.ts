// The pod-sync plan: what the runtime must do to move a pod's containers toward its spec. Pure (table-tested in
// actions.test.ts); apply.ts executes it.
import { containerHash } from './labels.ts';
import { isSidecar, type ContainerSpec, type Pod } from './pod-types.ts';
import type { PodRuntimeState, RuntimeContainer } from './runtime-state.ts';

export interface KillContainer { id: string; name: string; reason: string }

export interface PodActions {
  /** Stop every container and the sandbox (terminating pod, dead sandbox, terminal pod). */
  killPod: boolean;
  /** Create a new sandbox (after killPod when an old one exists). */
  createSandbox: boolean;
  sandboxAttempt: number;
  /** Init container to start next (at most one at a time; sidecars included). */
  startInit?: string;
  /** Regular containers to start. */
  startContainers: string[];
  /** Ephemeral containers to start (each once: they are never restarted). */
  startEphemeral: string[];
  /** Running containers to stop first (liveness failure, changed spec, stale CREATED). */
  killContainers: KillContainer[];
  /** Containers waiting for their restart backoff to expire. */
  backoff: string[];
  /** Old exited containers to remove (keeps the two newest per name). */
  removeContainers: string[];
  /** Older sandboxes of the pod (after a sandbox was recreated) to stop and remove. */
  removeSandboxes: string[];
  /** The pod reached its end (restartPolicy forbids further starts). */
  terminal: boolean;
}

export interface ActionContext {
  /** True while the container's restart backoff (since its last exit) has not expired. */
  inBackoff(name: string, last: RuntimeContainer): boolean;
  /** True when the liveness or startup probe of this container id failed past its threshold. */
  probeKill(name: string, id: string): boolean;
  /** True once the container's startup probe succeeded (or it has none) — sidecars gate later init containers. */
  started(name: string, id: string): boolean;
}

const noActions = (): PodActions => ({ killPod: false, createSandbox: false, sandboxAttempt: 0, startContainers: [], startEphemeral: [], killContainers: [], backoff: [], removeContainers: [], removeSandboxes: [], terminal: false });

/** Newest container named name in sandbox sb. */
export function latestIn(state: PodRuntimeState, sb: string | undefined, name: string): RuntimeContainer | undefined {
  return state.containers.find((c) => c.name === name && (sb === undefined || c.sandboxId === sb));
}

const isTerminalPhase = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

function shouldRestart(pod: Pod, c: RuntimeContainer): boolean {
  const policy = pod.spec.restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && c.exitCode !== 0);
}

export function computePodActions(pod: Pod, state: PodRuntimeState, ctx: ActionContext): PodActions {
  const a = noActions();
  const sandbox = state.sandboxes[0];
  const live = (c: RuntimeContainer) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED';
  const anyLive = state.containers.some(live) || state.sandboxes.some((s) => s.state === 'SANDBOX_READY');

  if (pod.metadata.deletionTimestamp) {
    a.killPod = anyLive;
    return a;
  }
  if (isTerminalPhase(pod)) {
    a.terminal = true;
    a.killPod = anyLive;
    return a;
  }

  const sandboxOk = sandbox && sandbox.state === 'SANDBOX_READY' && (pod.spec.hostNetwork || sandbox.ip);
  if (!sandboxOk) {
    // A dead sandbox with restartPolicy Never after containers ran: the pod is over, do not start again.
    const ranThere = sandbox && state.containers.some((c) => c.sandboxId === sandbox.id);
    const finished = sandbox && pod.spec.containers.every((s) => {
      const c = latestIn(state, sandbox.id, s.name);
      return c && c.state === 'CONTAINER_EXITED' && !shouldRestart(pod, c);
    });
    if (ranThere && ((pod.spec.restartPolicy ?? 'Always') === 'Never' || finished)) {
      a.terminal = true;
      a.killPod = anyLive;
      return a;
    }
    a.killPod = anyLive;
    a.createSandbox = true;
    a.sandboxAttempt = sandbox ? sandbox.attempt + 1 : 0;
    const first = pod.spec.initContainers?.[0];
    if (first) a.startInit = first.name;
    else a.startContainers = pod.spec.containers.map((c) => c.name);
    return a;
  }

  const sb = sandbox.id;
  a.removeSandboxes = state.sandboxes.slice(1).map((s) => s.id);
  const restartable = (spec: ContainerSpec, c: RuntimeContainer, alwaysRestart: boolean): 'start' | 'backoff' | 'done' => {
    if (!alwaysRestart && !shouldRestart(pod, c)) return 'done';
    return ctx.inBackoff(spec.name, c) ? 'backoff' : 'start';
  };

  // Running containers with a failed liveness/startup probe or a changed spec are killed, then handled as exited.
  const killed = new Set<string>();
  const allSpecs = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  for (const spec of allSpecs) {
    const c = latestIn(state, sb, spec.name);
    if (!c) continue;
    if (c.state === 'CONTAINER_RUNNING' && ctx.probeKill(spec.name, c.id)) {
      a.killContainers.push({ id: c.id, name: spec.name, reason: 'probe failed' });
      killed.add(spec.name);
    } else if (c.state === 'CONTAINER_RUNNING' && c.hash && c.hash !== containerHash(spec)) {
      a.killContainers.push({ id: c.id, name: spec.name, reason: 'spec changed' });
      killed.add(spec.name);
    } else if (c.state === 'CONTAINER_CREATED' || c.state === 'CONTAINER_UNKNOWN') {
      a.killContainers.push({ id: c.id, name: spec.name, reason: 'not started' });
      killed.add(spec.name);
    }
  }
  const exitedOrKilled = (name: string, c: RuntimeContainer) => c.state === 'CONTAINER_EXITED' || killed.has(name);

  // Init containers in order; sidecars (restartPolicy Always) keep running once started.
  const regularStarted = pod.spec.containers.some((s) => latestIn(state, sb, s.name));
  let initDone = true;
  for (const spec of pod.spec.initContainers ?? []) {
    const c = latestIn(state, sb, spec.name);
    if (isSidecar(spec)) {
      if (!c) { a.startInit = spec.name; initDone = false; break; }
      if (exitedOrKilled(spec.name, c)) {
        const r = restartable(spec, c, true);
        if (r === 'backoff') a.backoff.push(spec.name);
        else if (!a.startInit) a.startInit = spec.name;
        if (!regularStarted) { initDone = false; break; }
        continue;
      }
      if (!regularStarted && !ctx.started(spec.name, c.id)) { initDone = false; break; }
      continue;
    }
    if (regularStarted) continue;
    if (!c) { a.startInit = spec.name; initDone = false; break; }
    if (c.state === 'CONTAINER_EXITED' && c.exitCode === 0 && !killed.has(spec.name)) continue;
    initDone = false;
    if (!exitedOrKilled(spec.name, c)) break;
    if ((pod.spec.restartPolicy ?? 'Always') === 'Never') { a.terminal = true; a.killPod = true; return a; }
    const r = ctx.inBackoff(spec.name, c) ? 'backoff' : 'start';
    if (r === 'backoff') a.backoff.push(spec.name);
    else a.startInit = spec.name;
    break;
  }

  if (initDone) {
    let allDone = true;
    for (const spec of pod.spec.containers) {
      const c = latestIn(state, sb, spec.name);
      if (!c) { a.startContainers.push(spec.name); allDone = false; continue; }
      if (!exitedOrKilled(spec.name, c)) { allDone = false; continue; }
      const r = restartable(spec, c, false);
      if (r === 'start') { a.startContainers.push(spec.name); allDone = false; }
      else if (r === 'backoff') { a.backoff.push(spec.name); allDone = false; }
    }
    if (allDone && pod.spec.containers.length) { a.terminal = true; a.killPod = true; }
  }

  // Ephemeral containers may start before initialization is complete; once they ran they are never started again.
  if (!a.terminal) for (const e of pod.spec.ephemeralContainers ?? []) if (!latestIn(state, undefined, e.name)) a.startEphemeral.push(e.name);

  // Keep the two newest containers per name (current + previous, for logs --previous), remove older exited ones.
  const seen = new Map<string, number>();
  for (const c of state.containers) {
    const n = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, n);
    if (n > 2 && c.state === 'CONTAINER_EXITED') a.removeContainers.push(c.id);
  }
  return a;
}
