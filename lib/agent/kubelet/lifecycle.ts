// postStart / preStop hooks (exec, httpGet, sleep) and graceful container stops.
import type { Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import type { CriRuntime } from '../cri/types.ts';
import type { ContainerSpec, LifecycleHandler, Pod } from './pod-types.ts';
import { isSidecar } from './pod-types.ts';
import type { PodRuntimeState, RuntimeContainer } from './runtime-state.ts';

const log = logger('agent/kubelet');

export async function runHook(cri: Pick<CriRuntime, 'execSync'>, clock: Clock, h: LifecycleHandler, containerId: string, podIP: string | undefined, timeoutSec: number): Promise<void> {
  if (h.exec?.command?.length) {
    const r = await cri.execSync(containerId, h.exec.command, Math.max(1, Math.floor(timeoutSec)));
    if (r.exit_code !== 0) throw new Error(`hook exited ${r.exit_code}: ${r.stderr.toString().slice(0, 200)}`);
  } else if (h.httpGet) {
    const host = h.httpGet.host || podIP || '127.0.0.1';
    const path = h.httpGet.path ?? '/';
    const res = await fetch(`${(h.httpGet.scheme ?? 'HTTP').toLowerCase()}://${host}:${h.httpGet.port}${path.startsWith('/') ? path : `/${path}`}`, { signal: AbortSignal.timeout(Math.max(1, timeoutSec) * 1000) });
    await res.body?.cancel();
    if (res.status >= 400) throw new Error(`hook HTTP ${res.status}`);
  } else if (h.sleep) {
    await clock.sleep(Math.min(h.sleep.seconds, timeoutSec) * 1000);
  }
}

export interface StopOptions {
  cri: CriRuntime;
  clock: Clock;
  pod: Pod;
  podIP?: string;
  /** Seconds for preStop + SIGTERM before SIGKILL. */
  graceSeconds: number;
}

/** Runs preStop (bounded by the grace period), then StopContainer with what remains of the grace. */
export async function stopContainerGracefully(o: StopOptions, c: RuntimeContainer, spec: ContainerSpec | undefined): Promise<void> {
  const start = o.clock.now();
  if (spec?.lifecycle?.preStop && c.state === 'CONTAINER_RUNNING' && o.graceSeconds > 0) {
    try {
      await Promise.race([
        runHook(o.cri, o.clock, spec.lifecycle.preStop, c.id, o.podIP, o.graceSeconds),
        o.clock.sleep(o.graceSeconds * 1000),
      ]);
    } catch (e) {
      log.info('preStop hook failed', { pod: o.pod.metadata.name, container: c.name, err: String(e) });
    }
  }
  const left = Math.max(o.graceSeconds > 0 ? 2 : 0, Math.ceil(o.graceSeconds - (o.clock.now() - start) / 1000));
  await o.cri.stopContainer(c.id, left);
}

/** Stops every running container (regular ones first, then sidecars in reverse order), then every sandbox. */
export async function killPod(o: StopOptions, state: PodRuntimeState): Promise<void> {
  const specs = new Map([...(o.pod.spec.initContainers ?? []), ...o.pod.spec.containers].map((s) => [s.name, s]));
  const running = state.containers.filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED');
  const sidecarOrder = (o.pod.spec.initContainers ?? []).filter(isSidecar).map((s) => s.name).reverse();
  const regular = running.filter((c) => !sidecarOrder.includes(c.name));
  await Promise.all(regular.map((c) => stopContainerGracefully(o, c, specs.get(c.name))));
  for (const name of sidecarOrder) {
    for (const c of running.filter((x) => x.name === name)) await stopContainerGracefully({ ...o, graceSeconds: Math.min(o.graceSeconds, 2) }, c, specs.get(name));
  }
  for (const s of state.sandboxes) if (s.state === 'SANDBOX_READY') await o.cri.stopPodSandbox(s.id);
}
