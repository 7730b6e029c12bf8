// Pod garbage collector, every 20 s: terminated pods beyond the threshold (oldest first; Kubernetes' default is
// 12500), pods bound to nodes that no longer exist (after a 40 s quarantine and a live check against the API),
// and unscheduled pods that are terminating — the last two force-deleted (grace period 0).
import { core, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import type { Lister } from '../controller/cache.ts';
import { logger } from '../log/logger.ts';
import type { ControllerContext, Runnable } from './context.ts';

const log = logger('controller/pod-gc');
const podsRef = core('pods');

export interface PodGCDeps {
  client: Pick<Client, 'delete' | 'get'>;
  clock: Clock;
  pods: Lister;
  nodes: Lister;
  threshold?: number;
  quarantineMs?: number;
  /** node name → when this process first saw it missing. */
  missingSince?: Map<string, number>;
}

const isTerminated = (p: KubeObject) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

export interface PodGCPlan { terminated: KubeObject[]; orphaned: KubeObject[]; unscheduledTerminating: KubeObject[] }

/** What to delete now (pure apart from the missing-node bookkeeping). */
export function planPodGC(d: PodGCDeps, now: number): PodGCPlan {
  const pods = d.pods.list();
  const threshold = d.threshold ?? 12_500;
  const term = pods.filter((p) => isTerminated(p) && !p.metadata.deletionTimestamp);
  const terminated = term.length > threshold
    ? [...term].sort((a, b) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? '')).slice(0, term.length - threshold)
    : [];
  const missing = d.missingSince ?? new Map<string, number>();
  const seen = new Set<string>();
  const orphaned: KubeObject[] = [];
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (!n || d.nodes.get(n)) continue;
    seen.add(n);
    if (!missing.has(n)) missing.set(n, now);
    if (now - missing.get(n)! >= (d.quarantineMs ?? 40_000)) orphaned.push(p);
  }
  for (const n of missing.keys()) if (!seen.has(n)) missing.delete(n);
  const unscheduledTerminating = pods.filter((p) => !p.spec?.nodeName && p.metadata.deletionTimestamp);
  return { terminated, orphaned, unscheduledTerminating };
}

export async function runPodGC(d: PodGCDeps): Promise<number> {
  const plan = planPodGC(d, d.clock.now());
  let n = 0;
  const del = async (p: KubeObject, force: boolean) => {
    await d.client.delete(podsRef, p.metadata.name!, p.metadata.namespace, { ...(force ? { gracePeriodSeconds: 0 } : {}), preconditions: { uid: p.metadata.uid } })
      .then(() => n++, (e) => { if (!isNotFound(e)) log.warn('pod gc delete failed', { pod: p.metadata.name, err: String(e) }); });
  };
  for (const p of plan.terminated) await del(p, false);
  const live = new Map<string, boolean>();
  for (const p of plan.orphaned) {
    const node = p.spec.nodeName as string;
    if (!live.has(node)) {
      // The cache may lag: confirm the node is really gone.
      live.set(node, await d.client.get(core('nodes'), node).then(() => true, (e) => (isNotFound(e) ? false : true)));
    }
    if (!live.get(node)) await del(p, true);
  }
  for (const p of plan.unscheduledTerminating) await del(p, true);
  if (n) log.info('pod gc deleted pods', { count: n });
  return n;
}

export function podGCController(ctx: ControllerContext, periodMs = 20_000): Runnable & { deps: PodGCDeps } {
  const pods = ctx.factory.informer(podsRef);
  const nodes = ctx.factory.informer(core('nodes'));
  const deps: PodGCDeps = { client: ctx.client, clock: ctx.clock, pods: pods.lister, nodes: nodes.lister, threshold: ctx.terminatedPodGCThreshold, missingSince: new Map() };
  return {
    deps,
    async run(signal) {
      while (!signal.aborted) {
        await ctx.clock.sleep(periodMs, signal);
        if (signal.aborted) break;
        await runPodGC(deps).catch((e) => log.warn('pod gc failed', { err: String(e) }));
      }
    },
  };
}
