// HorizontalPodAutoscaler controller (autoscaling/v2, resource metrics): reads pod usage from a metrics source
// (metrics.k8s.io PodMetrics), computes the replicas wanted, stabilizes and rate-limits them per spec.behavior, and
// writes the target's `scale` subresource. Re-evaluates every 15 s.
import { type Client, type KubeObject, type ResourceRef } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import { splitKey, type Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import type { EventRecorder } from '../controller/events.ts';
import { matchesSelector, selectorToString, type LabelSelector } from '../controller/selector.ts';
import { logger } from '../log/logger.ts';
import type { ControllerContext, Runnable } from './context.ts';
import { stableStringify, requeueDelay } from './controller-revision.ts';
import { newHistory, normalizeDesired, recordScale, resourceReplicas, type HpaHistory, type MetricTarget, type PodMetrics } from './hpa-replicas.ts';
import { setCondition, type JobCondition } from './job-pods.ts';

const log = logger('controller/hpa');
const hpaRef: ResourceRef = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' };
export const SYNC_PERIOD_MS = 15_000;

export type MetricsSource = (namespace: string, selector: LabelSelector) => Promise<PodMetrics[]>;

export interface HpaDeps {
  client: Client;
  clock: Clock;
  hpas: Lister;
  pods: Lister;
  metrics: MetricsSource;
  history?: Map<string, HpaHistory>;
  recorder?: EventRecorder;
  requeueAfter?(key: string, ms: number): void;
}

const KNOWN: Record<string, string> = {
  Deployment: 'deployments', ReplicaSet: 'replicasets', StatefulSet: 'statefulsets', ReplicationController: 'replicationcontrollers',
};

/** The collection of scaleTargetRef: apiVersion's group/version and the kind's plural. */
export function targetRef(ref: { apiVersion?: string; kind: string }): ResourceRef {
  const [g, v] = (ref.apiVersion ?? 'apps/v1').includes('/') ? (ref.apiVersion ?? 'apps/v1').split('/') : ['', ref.apiVersion!];
  return { group: g!, version: v!, resource: KNOWN[ref.kind] ?? `${ref.kind.toLowerCase()}s` };
}

/** Metrics from the metrics API through the client (the default source). */
export const clientMetricsSource = (client: Client): MetricsSource => async (namespace, selector) =>
  (await client.list<KubeObject>({ group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods' }, { namespace, labelSelector: selectorToString(selector) })).items as unknown as PodMetrics[];

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const cond = (type: string, status: 'True' | 'False', reason: string, message: string): JobCondition => ({ type, status, reason, message });

export async function reconcileHpa(deps: HpaDeps, key: string): Promise<void> {
  const { namespace = '', name } = splitKey(key);
  const hpa = deps.hpas.get(name, namespace);
  if (!hpa || hpa.metadata.deletionTimestamp) { deps.history?.delete(key); return; }
  deps.requeueAfter?.(key, SYNC_PERIOD_MS);
  const now = deps.clock.now();
  const spec = hpa.spec ?? {};
  const status = structuredClone(hpa.status ?? {}) as Record<string, any>;
  let conds = (status.conditions ?? []) as JobCondition[];
  const setC = (c: JobCondition) => { conds = setCondition(conds, c, iso(now)).map(({ lastProbeTime: _, ...x }) => x); };
  const finish = async () => {
    status.conditions = conds;
    status.observedGeneration = hpa.metadata.generation ?? 1;
    if (stableStringify(status) !== stableStringify(hpa.status ?? {})) await deps.client.update(hpaRef, { ...structuredClone(hpa), status } as KubeObject, 'status');
  };

  const ref = targetRef(spec.scaleTargetRef ?? { kind: '' });
  let target: KubeObject;
  try {
    target = await deps.client.get(ref, spec.scaleTargetRef?.name, namespace);
  } catch (e) {
    setC(cond('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${(e as Error).message}`));
    await finish();
    return;
  }
  const current: number = target.spec?.replicas ?? 1;
  const min: number = spec.minReplicas ?? 1;
  const max: number = spec.maxReplicas ?? min;
  status.currentReplicas = current;
  let desired: number;
  const h = deps.history?.get(key) ?? newHistory();
  deps.history?.set(key, h);
  if (current === 0 && min !== 0) {
    desired = 0;
    setC(cond('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero'));
  } else if (current > max || current < min) {
    // Outside the bounds the target is brought back without looking at metrics.
    desired = current > max ? max : min;
    setC(cond('ScalingLimited', 'True', current > max ? 'TooManyReplicas' : 'TooFewReplicas',
      `the desired replica count is ${current > max ? 'more than the maximum' : 'less than the minimum'} replica count`));
  } else {
    let proposal = 0;
    const currentMetrics: unknown[] = [];
    try {
      const selector = (target.spec?.selector?.matchLabels || target.spec?.selector?.matchExpressions ? target.spec.selector : { matchLabels: target.spec?.selector ?? {} }) as LabelSelector;
      const pods = deps.pods.list(namespace).filter((p) => matchesSelector(selector, p.metadata.labels));
      const metrics = (await deps.metrics(namespace, selector)).filter((m) => pods.some((p) => p.metadata.name === m.metadata.name));
      type Source = { name: string; container?: string; target: MetricTarget };
      const specs = (spec.metrics?.length ? spec.metrics : [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]) as { type: string; resource?: Source; containerResource?: Source }[];
      for (const m of specs) {
        const src = m.type === 'Resource' ? m.resource : m.type === 'ContainerResource' ? m.containerResource : undefined;
        if (!src) throw new Error(`metric type ${m.type} is not supported`);
        const r = resourceReplicas({ currentReplicas: current, resource: src.name, target: src.target, pods, metrics, container: src.container });
        proposal = Math.max(proposal, r.replicas);
        const value = src.name === 'cpu' ? `${r.averageValue}m` : String(r.averageValue);
        const cur = { averageValue: value, ...(r.utilization !== undefined ? { averageUtilization: r.utilization } : {}) };
        currentMetrics.push(m.type === 'Resource'
          ? { type: 'Resource', resource: { name: src.name, current: cur } }
          : { type: 'ContainerResource', containerResource: { name: src.name, container: src.container, current: cur } });
      }
    } catch (e) {
      setC(cond('ScalingActive', 'False', 'FailedGetResourceMetric', `the HPA was unable to compute the replica count: ${(e as Error).message}`));
      setC(cond('AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale'));
      await finish();
      return;
    }
    status.currentMetrics = currentMetrics;
    setC(cond('ScalingActive', 'True', 'ValidMetricFound', 'the HPA was able to successfully calculate a replica count'));
    const n = normalizeDesired({ current, desired: proposal, min, max, behavior: spec.behavior, history: h, now });
    desired = n.replicas;
    if (n.limited === 'TooManyReplicas') setC(cond('ScalingLimited', 'True', 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'));
    else if (n.limited === 'TooFewReplicas') setC(cond('ScalingLimited', 'True', 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'));
    else if (n.limited) setC(cond('ScalingLimited', 'True', n.limited, `the desired replica count is limited by the ${n.limited === 'ScaleUpLimit' ? 'scale up' : 'scale down'} policy`));
    else setC(cond('ScalingLimited', 'False', 'DesiredWithinRange', 'the desired count is within the acceptable range'));
  }
  status.desiredReplicas = desired;
  if (desired !== current) {
    try {
      await deps.client.patch(ref, target.metadata.name!, 'merge', { spec: { replicas: desired } }, { namespace, subresource: 'scale' });
    } catch (e) {
      setC(cond('AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${(e as Error).message}`));
      await finish();
      throw e;
    }
    recordScale(h, current, desired, now, spec.behavior);
    status.lastScaleTime = iso(now);
    deps.recorder?.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${desired > current ? 'above' : 'below'} target`);
    log.info('rescaled', { hpa: key, from: current, to: desired });
    setC(cond('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`));
  } else {
    setC(cond('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size'));
  }
  await finish();
}

export interface HpaOptions {
  /** Where pod usage comes from; default: ctx.metricsSource, else the metrics.k8s.io API through the client. */
  metricsSource?: MetricsSource;
}

/** The HPA controller on the manager's shared informers. A `metricsSource` on the context (if the server adds one) is used. */
export function initHpaController(ctx: ControllerContext & { metricsSource?: MetricsSource }, opts: HpaOptions = {}): Runnable {
  const hpas = ctx.factory.informer(hpaRef);
  const pods = ctx.factory.informer({ group: '', version: 'v1', resource: 'pods' });
  const deps: HpaDeps = {
    client: ctx.client, clock: ctx.clock, hpas: hpas.lister, pods: pods.lister, metrics: opts.metricsSource ?? ctx.metricsSource ?? clientMetricsSource(ctx.client),
    history: new Map(), recorder: ctx.recorder('horizontal-pod-autoscaler'),
  };
  const c = new Controller({ name: 'horizontalpodautoscaling', clock: ctx.clock, reconcile: (key) => reconcileHpa(deps, key) });
  deps.requeueAfter = (key, ms) => c.enqueueAfter(key, requeueDelay(ms));
  // Our own status writes must not trigger syncs (metrics change every sync): only adds, spec changes and deletes do.
  hpas.addHandler({
    add: (o) => c.enqueue(o),
    update: (a, b) => { if (a.metadata.generation !== b.metadata.generation) c.enqueue(b); },
    delete: (o) => c.enqueue(o),
  });
  return c;
}
