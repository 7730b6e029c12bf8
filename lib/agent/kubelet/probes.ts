// Liveness, readiness and startup probes: one timer loop per (pod, container id, kind), driven by the injected
// Clock; results are read by the pod worker (ready/started/kill) and a change triggers a pod sync.
import { connect } from 'node:net';
import type { Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import type { CriRuntime } from '../cri/types.ts';
import type { ContainerSpec, Probe } from './pod-types.ts';

const log = logger('agent/kubelet/probes');

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure';

/** Runs one probe attempt; returns success or failure with a message. Exposed for tests. */
export type ProbeRunner = (p: Probe, target: { containerId: string; podIP?: string; container: ContainerSpec }) => Promise<{ result: ProbeResult; message?: string }>;

function resolvePort(port: number | string, c: ContainerSpec): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = c.ports?.find((x) => x.name === port);
  if (!p) throw new Error(`port ${port} not found`);
  return p.containerPort;
}

export function defaultProbeRunner(cri: Pick<CriRuntime, 'execSync'>): ProbeRunner {
  return async (p, t) => {
    const timeout = p.timeoutSeconds ?? 1;
    try {
      if (p.exec) {
        const r = await cri.execSync(t.containerId, p.exec.command ?? [], timeout);
        return r.exit_code === 0 ? { result: 'success' } : { result: 'failure', message: `exit ${r.exit_code}: ${r.stdout.toString().slice(0, 200)}${r.stderr.toString().slice(0, 200)}` };
      }
      if (p.httpGet) {
        const host = p.httpGet.host || t.podIP || '127.0.0.1';
        const port = resolvePort(p.httpGet.port, t.container);
        const scheme = (p.httpGet.scheme ?? 'HTTP').toLowerCase();
        const path = p.httpGet.path ?? '/';
        const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.32' };
        for (const h of p.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
        const res = await fetch(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path.startsWith('/') ? path : `/${path}`}`, { headers, signal: AbortSignal.timeout(timeout * 1000), redirect: 'manual' });
        await res.body?.cancel();
        return res.status >= 200 && res.status < 400 ? { result: 'success' } : { result: 'failure', message: `HTTP probe failed with statuscode: ${res.status}` };
      }
      if (p.tcpSocket) {
        const host = p.tcpSocket.host || t.podIP || '127.0.0.1';
        const port = resolvePort(p.tcpSocket.port, t.container);
        await new Promise<void>((resolve, reject) => {
          const s = connect({ host, port, timeout: timeout * 1000 });
          s.once('connect', () => { s.destroy(); resolve(); });
          s.once('timeout', () => { s.destroy(); reject(new Error('timeout')); });
          s.once('error', reject);
        });
        return { result: 'success' };
      }
      if (p.grpc) {
        // Messages as the kubelet's gRPC prober words them.
        const address = `${t.podIP || '127.0.0.1'}:${p.grpc.port}`;
        const { grpcHealthCheck } = await import('../cri/grpc.ts');
        let status: string;
        try {
          status = await grpcHealthCheck(address, p.grpc.service ?? '', timeout * 1000);
        } catch (e) {
          const code = (e as { code?: number }).code;
          const detail = e instanceof Error ? e.message : String(e);
          return { result: 'failure', message: code === 4 || code === 14 ? `timeout: failed to connect service ${JSON.stringify(address)} within ${timeout}s: ${detail}` : `error: health rpc probe failed: ${detail}` };
        }
        return status === 'SERVING' ? { result: 'success' } : { result: 'failure', message: `service unhealthy (responded with ${JSON.stringify(status)})` };
      }
      return { result: 'success' };
    } catch (e) {
      return { result: 'failure', message: String(e instanceof Error ? e.message : e) };
    }
  };
}

interface Worker {
  kind: ProbeKind;
  result: ProbeResult | undefined;
  successes: number;
  failures: number;
  timer?: { cancel(): void };
  stopped: boolean;
}

export interface ProbeManagerOptions {
  clock: Clock;
  runner: ProbeRunner;
  /** Called when a result flips (the pod worker syncs the pod). */
  onChange(podUid: string): void;
  /** Called on every failed attempt (the kubelet's Unhealthy event). */
  onFailure?(podUid: string, container: string, kind: ProbeKind, message: string): void;
}

export class ProbeManager {
  #o: ProbeManagerOptions;
  #workers = new Map<string, Worker>();

  constructor(o: ProbeManagerOptions) { this.#o = o; }

  static key(podUid: string, containerId: string, kind: ProbeKind): string { return `${podUid}/${containerId}/${kind}`; }

  /** Ensures probe workers exist for a running container (idempotent). */
  ensure(podUid: string, containerId: string, spec: ContainerSpec, podIP: () => string | undefined): void {
    const probes: [ProbeKind, Probe | undefined][] = [['startup', spec.startupProbe], ['liveness', spec.livenessProbe], ['readiness', spec.readinessProbe]];
    for (const [kind, probe] of probes) {
      if (!probe) continue;
      const key = ProbeManager.key(podUid, containerId, kind);
      if (this.#workers.has(key)) continue;
      const w: Worker = { kind, result: undefined, successes: 0, failures: 0, stopped: false };
      this.#workers.set(key, w);
      const period = (probe.periodSeconds ?? 10) * 1000;
      const tick = async () => {
        if (w.stopped) return;
        // Liveness and readiness wait for the startup probe to succeed.
        if (kind !== 'startup' && spec.startupProbe && this.#workers.get(ProbeManager.key(podUid, containerId, 'startup'))?.result !== 'success') {
          w.timer = this.#o.clock.setTimeout(() => void tick(), period);
          return;
        }
        // A succeeded startup probe stops probing.
        if (kind === 'startup' && w.result === 'success') return;
        const r = await this.#o.runner(probe, { containerId, podIP: podIP(), container: spec });
        if (w.stopped) return;
        const before = w.result;
        if (r.result === 'success') {
          w.successes++;
          w.failures = 0;
          if (w.successes >= (kind === 'readiness' ? (probe.successThreshold ?? 1) : 1)) w.result = 'success';
        } else {
          w.failures++;
          w.successes = 0;
          if (w.failures >= (probe.failureThreshold ?? 3)) w.result = 'failure';
          log.debug('probe failed', { podUid, container: spec.name, kind, message: r.message });
          this.#o.onFailure?.(podUid, spec.name, kind, r.message ?? '');
        }
        if (before !== w.result) {
          log.info('probe result changed', { podUid, container: spec.name, kind, result: w.result });
          this.#o.onChange(podUid);
        }
        w.timer = this.#o.clock.setTimeout(() => void tick(), period);
      };
      w.timer = this.#o.clock.setTimeout(() => void tick(), (probe.initialDelaySeconds ?? 0) * 1000);
    }
  }

  result(podUid: string, containerId: string, kind: ProbeKind): ProbeResult | undefined {
    return this.#workers.get(ProbeManager.key(podUid, containerId, kind))?.result;
  }

  /** Stops workers of containers not in keep (call with the live container ids of a pod). */
  retain(podUid: string, keep: Set<string>): void {
    for (const [key, w] of this.#workers) {
      const [uid, id] = key.split('/');
      if (uid === podUid && !keep.has(id!)) this.#stop(key, w);
    }
  }

  stopPod(podUid: string): void { this.retain(podUid, new Set()); }
  stopAll(): void { for (const [k, w] of this.#workers) this.#stop(k, w); }

  #stop(key: string, w: Worker): void {
    w.stopped = true;
    w.timer?.cancel();
    this.#workers.delete(key);
  }
}
