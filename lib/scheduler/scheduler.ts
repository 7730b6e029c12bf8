// The scheduler loop: unscheduled pods (informer) → queue → schedulePod over a snapshot of nodes and their pods →
// assume the pod on the node at once (so the next pod sees it) → bind through pods/binding in the background.
// Unschedulable pods: FailedScheduling event + PodScheduled=False condition (written only when changed), retried
// with backoff 1 s doubling to 60 s, and at once when nodes change or a bound pod goes away.
import { core, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import { realClock, type Clock } from '../clock.ts';
import { logger } from '../log/logger.ts';
import { byNodeName, keyOf } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import { nullRecorder, type EventRecorder } from '../controller/events.ts';
import type { SharedInformerFactory } from '../controller/factory.ts';
import type { Informer } from '../controller/informer.ts';
import { newNodeInfo, addPod, type NodeInfo } from './node-info.ts';
import { schedulePod, type ScheduleOptions } from './schedule.ts';
import { delayedClaims, SELECTED_NODE } from './filters.ts';

const log = logger('scheduler');

export interface SchedulerOptions {
  client: Pick<Client, 'createSubresource' | 'update' | 'patch'>;
  factory: SharedInformerFactory;
  clock?: Clock;
  recorder?: EventRecorder;
  schedulerName?: string;
  maxInFlightBinds?: number;
  schedule?: ScheduleOptions;
}

const isTerminal = (p: KubeObject) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

export class Scheduler {
  readonly controller: Controller;
  readonly pods: Informer;
  readonly nodes: Informer;
  readonly pvcs: Informer;
  readonly pvs: Informer;
  readonly storageClasses: Informer;
  readonly opts: SchedulerOptions;
  readonly clock: Clock;
  readonly recorder: EventRecorder;
  /** Pods bound (or being bound) whose nodeName the informer has not shown yet. */
  readonly assumed = new Map<string, KubeObject>();
  readonly #unschedulable = new Map<string, number>();
  readonly #binds = new Set<Promise<void>>();
  #rr = 0;

  constructor(opts: SchedulerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.recorder = opts.recorder ?? nullRecorder;
    this.pods = opts.factory.informer(core('pods')).addIndexer('nodeName', byNodeName);
    this.nodes = opts.factory.informer(core('nodes'));
    this.pvcs = opts.factory.informer(core('persistentvolumeclaims'));
    this.pvs = opts.factory.informer(core('persistentvolumes'));
    this.storageClasses = opts.factory.informer({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' });
    // A claim getting bound or created may make a waiting pod schedulable.
    this.pvcs.addHandler({ add: () => this.#retryUnschedulable(), update: (a, b) => { if (a !== b) this.#retryUnschedulable(); } });
    this.controller = new Controller({ name: 'scheduler', clock: this.clock, reconcile: (k) => this.scheduleOne(k) });
    this.pods.addHandler({
      add: (p) => this.#onPod(p),
      update: (old, p) => {
        // A user edit of an unschedulable pod (selector, tolerations, requests, labels) is worth a try at once.
        if (old !== p && !p.spec?.nodeName && this.#unschedulable.has(keyOf(p)) && (JSON.stringify(old.spec) !== JSON.stringify(p.spec) || JSON.stringify(old.metadata.labels) !== JSON.stringify(p.metadata.labels))) {
          this.controller.enqueue(keyOf(p));
        }
        this.#onPod(p);
        if (old.spec?.nodeName && !isTerminal(old) && isTerminal(p)) this.#retryUnschedulable();
      },
      delete: (p) => {
        this.assumed.delete(keyOf(p));
        this.#unschedulable.delete(keyOf(p));
        if (p.spec?.nodeName) this.#retryUnschedulable();
      },
    });
    this.nodes.addHandler({
      add: () => this.#retryUnschedulable(),
      update: (a, b) => { if (a !== b && nodeChanged(a, b)) this.#retryUnschedulable(); },
    });
  }

  #mine(p: KubeObject): boolean {
    return (p.spec?.schedulerName ?? 'default-scheduler') === (this.opts.schedulerName ?? 'default-scheduler');
  }

  #onPod(p: KubeObject): void {
    const key = keyOf(p);
    if (p.spec?.nodeName) {
      this.assumed.delete(key);
      this.#unschedulable.delete(key);
      return;
    }
    if (p.spec?.schedulingGates?.length) return;
    if (!p.metadata.deletionTimestamp && !isTerminal(p) && this.#mine(p) && !this.#unschedulable.has(key)) this.controller.enqueue(key);
  }

  #retryUnschedulable(): void {
    for (const k of this.#unschedulable.keys()) this.controller.enqueue(k);
  }

  /** Nodes and their bound + assumed pods, as of now. */
  snapshot(): NodeInfo[] {
    const byNode = new Map<string, KubeObject[]>();
    for (const p of this.assumed.values()) {
      const l = byNode.get(p.spec!.nodeName) ?? [];
      l.push(p);
      byNode.set(p.spec!.nodeName, l);
    }
    return this.nodes.lister.list().map((n) => {
      const info = newNodeInfo(n, this.pods.lister.byIndex('nodeName', n.metadata.name!));
      for (const p of byNode.get(n.metadata.name!) ?? []) addPod(info, p);
      return info;
    });
  }

  async scheduleOne(key: string): Promise<void> {
    const pod = this.pods.lister.getByKey(key);
    if (!pod || pod.spec?.nodeName || pod.metadata.deletionTimestamp || isTerminal(pod) || !this.#mine(pod) || pod.spec?.schedulingGates?.length) {
      this.#unschedulable.delete(key);
      return;
    }
    if (this.assumed.has(key)) return;
    const result = schedulePod(pod, this.snapshot(), {
      pvc: (ns, name) => this.pvcs.lister.get(name, ns),
      pv: (name) => this.pvs.lister.get(name),
      storageClass: (name) => this.storageClasses.lister.get(name),
      tieBreak: (n) => this.#rr++ % n,
      ...this.opts.schedule,
    });
    if ('message' in result) return this.#failed(pod, result.message);
    const attempts = this.#unschedulable.get(key);
    this.#unschedulable.delete(key);
    const assumed = { ...pod, spec: { ...pod.spec, nodeName: result.node } };
    this.assumed.set(key, assumed);
    log.debug('assumed', { pod: key, node: result.node, attempts });
    while (this.#binds.size >= (this.opts.maxInFlightBinds ?? 32)) await Promise.race(this.#binds);
    const p = this.#bind(pod, result.node).finally(() => this.#binds.delete(p));
    this.#binds.add(p);
  }

  async #bind(pod: KubeObject, node: string): Promise<void> {
    const key = keyOf(pod);
    try {
      // Claims waiting for their first consumer learn the chosen node (the provisioner creates the volume there).
      const claims = delayedClaims(pod, { pvc: (ns, n) => this.pvcs.lister.get(n, ns), storageClass: (n) => this.storageClasses.lister.get(n) });
      for (const c of claims) {
        if (c.metadata.annotations?.[SELECTED_NODE] === node) continue;
        await this.opts.client.patch(core('persistentvolumeclaims'), c.metadata.name!, 'merge', { metadata: { annotations: { [SELECTED_NODE]: node } } }, { namespace: c.metadata.namespace });
      }
      await this.opts.client.createSubresource(core('pods'), pod.metadata.name!, 'binding', {
        apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      }, pod.metadata.namespace);
      this.recorder.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`);
    } catch (e) {
      this.assumed.delete(key);
      if (isNotFound(e)) return;
      log.warn('binding failed', { pod: key, node, err: String(e) });
      this.controller.queue.addRateLimited(key);
    }
  }

  #failed(pod: KubeObject, message: string): void {
    const key = keyOf(pod);
    const n = this.#unschedulable.get(key) ?? 0;
    this.#unschedulable.set(key, n + 1);
    this.recorder.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, 'Warning', 'FailedScheduling', message);
    this.controller.enqueueAfter(key, Math.min(60_000, 1000 * 2 ** Math.min(n, 10)));
    const conds: { type: string; status: string; reason?: string; message?: string }[] = pod.status?.conditions ?? [];
    const cur = conds.find((c) => c.type === 'PodScheduled');
    if (cur?.status === 'False' && cur.reason === 'Unschedulable' && cur.message === message) return;
    const now = new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const next = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: now };
    const updated = structuredClone(pod) as KubeObject;
    updated.status = { ...updated.status, phase: updated.status?.phase ?? 'Pending', conditions: [...conds.filter((c) => c.type !== 'PodScheduled'), next] };
    this.opts.client.update(core('pods'), updated, 'status').catch((e) => log.debug('pod condition update failed', { pod: key, err: String(e) }));
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.pods.waitForSync(signal), this.nodes.waitForSync(signal)]);
    await this.controller.run(signal);
    await Promise.allSettled([...this.#binds]);
  }
}

function nodeChanged(a: KubeObject, b: KubeObject): boolean {
  const pick = (n: KubeObject) => JSON.stringify([n.metadata.labels, n.spec?.taints, n.spec?.unschedulable, n.status?.allocatable,
    (n.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready')?.status]);
  return pick(a) !== pick(b);
}
