// The kubelet's eviction manager: every 10 s observe the signals, update the pressure conditions, and while a
// threshold is crossed reclaim node-level resources first (disk: unused images and dead containers; memory: nothing),
// then evict one pod at a time in rank order — grace period 1 s for hard thresholds (as upstream), the pod's own
// capped at eviction-max-pod-grace-period for soft ones. After an eviction it waits for the pod's containers to stop
// and observes again at once.
import { realClock, type Clock } from '../../clock.ts';
import type { EventRecorder } from '../../controller/events.ts';
import { logger } from '../../log/logger.ts';
import { podKey, type Pod } from '../kubelet/pod-types.ts';
import type { EvictionConfig } from './config.ts';
import { evictionMessage, isCriticalPod, rankPods, reclaimable, type UsageByPod } from './rank.ts';
import { initialState, step, thresholdsMet, type EvictionState, type Observations, type PressureCondition, type Resource } from './thresholds.ts';

const log = logger('agent/eviction');

/** Grace period of pods evicted for a hard threshold (the kubelet's immediateEvictionGracePeriodSeconds). */
export const IMMEDIATE_GRACE_SECONDS = 1;

export interface EvictionManagerOptions {
  config: EvictionConfig;
  clock?: Clock;
  observe(): Observations | Promise<Observations>;
  /** Pods bound to this node that are neither terminal nor being deleted. */
  activePods(): Pod[];
  usage(resource: Resource): Promise<UsageByPod>;
  /** Kills the pod's containers with graceSeconds and marks it Failed/Evicted; resolves when done. */
  evict(pod: Pod, o: { graceSeconds: number; message: string }): Promise<void>;
  /** Node-level reclaim for disk signals (image GC, dead containers). */
  reclaimDisk?(): Promise<void>;
  recorder?: EventRecorder;
  /** Called when the set of pressure conditions changes (the node status loop writes at once). */
  onConditionsChanged?(): void;
  periodMs?: number;
}

export class EvictionManager {
  #o: EvictionManagerOptions;
  #clock: Clock;
  #state: EvictionState = initialState();
  #conditions = new Set<PressureCondition>();
  /** Pods already evicted (the informer may still show them running for a moment). */
  #evicted = new Set<string>();

  constructor(o: EvictionManagerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
  }

  /** Pressure conditions to report True on the Node. */
  conditions(): ReadonlySet<PressureCondition> { return this.#conditions; }

  /** One observation; returns the evicted pod, if any. */
  async synchronize(): Promise<Pod | undefined> {
    const o = this.#o;
    const obs = await o.observe();
    const r = step(this.#state, o.config.thresholds, obs, this.#clock.now(), o.config.pressureTransitionPeriodMs);
    this.#state = r.state;
    const changed = r.conditions.size !== this.#conditions.size || [...r.conditions].some((c) => !this.#conditions.has(c));
    this.#conditions = r.conditions;
    if (changed) {
      log.info('node pressure conditions', { conditions: [...r.conditions] });
      o.onConditionsChanged?.();
    }
    const target = reclaimable(r.thresholds);
    if (!target) return undefined;
    if (target.resource !== 'memory' && target.resource !== 'pids' && o.reclaimDisk) {
      await o.reclaimDisk().catch((e) => log.warn('node-level disk reclaim failed', { err: String(e) }));
      const after = await o.observe();
      if (!thresholdsMet(this.#state.met, after, true).length) {
        log.info('node-level reclaim relieved disk pressure; no pod evicted', { signal: target.threshold.signal });
        return undefined;
      }
    }
    const all = o.activePods();
    const live = new Set(all.map((p) => p.metadata.uid!));
    for (const uid of this.#evicted) if (!live.has(uid)) this.#evicted.delete(uid);
    const pods = all.filter((p) => !this.#evicted.has(p.metadata.uid!));
    if (!pods.length) return undefined;
    const usage = await o.usage(target.resource);
    for (const pod of rankPods(target.resource, pods, usage)) {
      if (isCriticalPod(pod)) continue;
      const hard = target.threshold.gracePeriodMs === 0;
      let grace = IMMEDIATE_GRACE_SECONDS;
      if (!hard) {
        const own = pod.spec.terminationGracePeriodSeconds ?? 30;
        grace = o.config.maxPodGracePeriodSeconds > 0 ? Math.min(own, o.config.maxPodGracePeriodSeconds) : own;
      }
      const message = evictionMessage(target.resource, pod, usage.get(pod.metadata.uid!), target.threshold, obs);
      log.warn('evicting pod', { pod: podKey(pod), signal: target.threshold.signal, message });
      o.recorder?.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, 'Warning', 'Evicted', message);
      this.#evicted.add(pod.metadata.uid!);
      await o.evict(pod, { graceSeconds: grace, message });
      return pod;
    }
    return undefined;
  }

  /** Runs until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let evicted: Pod | undefined;
      try {
        evicted = await this.synchronize();
      } catch (e) {
        log.warn('eviction manager step failed', { err: String(e) });
      }
      // After an eviction observe again soon (upstream polls the pod's cleanup every second).
      await this.#clock.sleep(evicted ? 1000 : (this.#o.periodMs ?? 10_000), signal);
    }
  }
}
