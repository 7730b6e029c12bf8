// The scheduler loop: unscheduled pods (informer) → queue → schedulePod over a snapshot of nodes and their pods →
// assume the pod on the node at once (so the next pod sees it) → bind through pods/binding in the background.
// Unschedulable pods: FailedScheduling event + PodScheduled=False condition (written only when changed), retried
// with backoff 1 s doubling to 60 s, and at once when nodes change or a bound pod goes away. The queue hands out
// higher-priority pods first. A pod that fits nowhere may preempt lower-priority pods (preemption.ts): it is
// nominated to the chosen node (status.nominatedNodeName, whose room lower-priority pods then leave alone), the
// victims are marked DisruptionTarget and deleted gracefully, and the pod is scheduled once they are gone.
import { core, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import { realClock, type Clock } from '../clock.ts';
import { logger } from '../log/logger.ts';
import { byNodeName, keyOf } from '../controller/cache.ts';
import { nullRecorder, type EventRecorder } from '../controller/events.ts';
import type { SharedInformerFactory } from '../controller/factory.ts';
import type { Informer } from '../controller/informer.ts';
import { addPod, cloneNodeInfo, newNodeInfo, type NodeInfo } from './node-info.ts';
import { podPriority, runFiltersWithNominated, schedulePod, type ScheduleOptions } from './schedule.ts';
import { defaultFilters, delayedClaims, SELECTED_NODE, type FilterContext } from './filters.ts';
import { planPreemption, PREEMPTION_BY_SCHEDULER, type Candidate } from './preemption.ts';
import { SchedulingQueue } from './scheduling-queue.ts';

const log = logger('scheduler');

export interface SchedulerOptions {
  client: Pick<Client, 'createSubresource' | 'update' | 'patch' | 'delete'>;
  factory: SharedInformerFactory;
  clock?: Clock;
  recorder?: EventRecorder;
  schedulerName?: string;
  maxInFlightBinds?: number;
  schedule?: ScheduleOptions;
  /** Preempt lower-priority pods for pods that fit nowhere (default true). */
  preemption?: boolean;
}

const isTerminal = (p: KubeObject) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

export class Scheduler {
  readonly queue: SchedulingQueue;
  readonly pods: Informer;
  readonly pdbs: Informer;
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
  /** Pending pods nominated to a node by preemption (ours, or seen in status.nominatedNodeName), by pod key. */
  readonly #nominated = new Map<string, KubeObject>();
  readonly #binds = new Set<Promise<void>>();
  /** Each node's info from the informers (without assumed pods), rebuilt only after its node or pods changed. */
  readonly #infos = new Map<string, { node: KubeObject; info: NodeInfo }>();
  readonly #dirty = new Set<string>();
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
    this.pdbs = opts.factory.informer({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' });
    // A claim getting bound or created may make a waiting pod schedulable.
    this.pvcs.addHandler({ add: () => this.#retryUnschedulable(), update: (a, b) => { if (a !== b) this.#retryUnschedulable(); } });
    this.queue = new SchedulingQueue({ clock: this.clock, priority: (k) => { const p = this.pods.lister.getByKey(k); return p ? podPriority(p) : 0; } });
    const touch = (p: KubeObject | undefined) => { const n = p?.spec?.nodeName; if (n) this.#dirty.add(n); };
    this.pods.addHandler({ add: touch, update: (old, p) => { touch(old); touch(p); }, delete: touch });
    this.pods.addHandler({
      add: (p) => this.#onPod(p),
      update: (old, p) => {
        // A user edit of an unschedulable pod (selector, tolerations, requests, labels) is worth a try at once.
        if (old !== p && !p.spec?.nodeName && this.#unschedulable.has(keyOf(p)) && (JSON.stringify(old.spec) !== JSON.stringify(p.spec) || JSON.stringify(old.metadata.labels) !== JSON.stringify(p.metadata.labels))) {
          this.queue.add(keyOf(p));
        }
        this.#onPod(p);
        if (old.spec?.nodeName && !isTerminal(old) && isTerminal(p)) this.#retryUnschedulable();
      },
      delete: (p) => {
        this.assumed.delete(keyOf(p));
        this.#unschedulable.delete(keyOf(p));
        this.#nominated.delete(keyOf(p));
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
      this.#nominated.delete(key);
      return;
    }
    if (p.status?.nominatedNodeName && !p.metadata.deletionTimestamp && !isTerminal(p)) this.#nominated.set(key, p);
    else this.#nominated.delete(key);
    if (p.spec?.schedulingGates?.length) return;
    if (!p.metadata.deletionTimestamp && !isTerminal(p) && this.#mine(p) && !this.#unschedulable.has(key)) this.queue.add(key);
  }

  #retryUnschedulable(): void {
    for (const k of this.#unschedulable.keys()) this.queue.add(k);
  }

  /** Nodes and their bound + assumed pods, as of now. Infos are shared between cycles: callers that change one
   * work on a copy (cloneNodeInfo). */
  snapshot(): NodeInfo[] {
    const byNode = new Map<string, KubeObject[]>();
    for (const p of this.assumed.values()) {
      const l = byNode.get(p.spec!.nodeName) ?? [];
      l.push(p);
      byNode.set(p.spec!.nodeName, l);
    }
    const nodes = this.nodes.lister.list();
    if (this.#infos.size > nodes.length) {
      const names = new Set(nodes.map((n) => n.metadata.name!));
      for (const name of this.#infos.keys()) if (!names.has(name)) this.#infos.delete(name);
    }
    return nodes.map((n) => {
      const name = n.metadata.name!;
      let cached = this.#infos.get(name);
      if (!cached || cached.node !== n || this.#dirty.has(name)) {
        cached = { node: n, info: newNodeInfo(n, this.pods.lister.byIndex('nodeName', name)) };
        this.#infos.set(name, cached);
        this.#dirty.delete(name);
      }
      const assumed = byNode.get(name);
      if (!assumed) return cached.info;
      const info = cloneNodeInfo(cached.info);
      for (const p of assumed) addPod(info, p);
      return info;
    });
  }

  async scheduleOne(key: string): Promise<void> {
    let pod = this.pods.lister.getByKey(key);
    if (!pod || pod.spec?.nodeName || pod.metadata.deletionTimestamp || isTerminal(pod) || !this.#mine(pod) || pod.spec?.schedulingGates?.length) {
      this.#unschedulable.delete(key);
      return;
    }
    if (this.assumed.has(key)) return;
    // Our own nomination is known before the informer shows the status write.
    const mine = this.#nominated.get(key)?.status?.nominatedNodeName;
    if (mine && mine !== pod.status?.nominatedNodeName) pod = { ...pod, status: { ...pod.status, nominatedNodeName: mine } };
    const nodes = this.snapshot();
    const nominated = this.#nominatedByNode();
    const opts: ScheduleOptions = {
      pvc: (ns, name) => this.pvcs.lister.get(name, ns),
      pv: (name) => this.pvs.lister.get(name),
      storageClass: (name) => this.storageClasses.lister.get(name),
      tieBreak: (n) => this.#rr++ % n,
      nominated,
      ...this.opts.schedule,
    };
    // A pod nominated by an earlier preemption goes to that node as soon as it fits there.
    const nom = pod.status?.nominatedNodeName as string | undefined;
    const nomInfo = nom ? nodes.find((i) => i.node.metadata.name === nom) : undefined;
    const result = nomInfo && !runFiltersWithNominated(pod, nomInfo, this.#filterContext(nodes, opts), opts.filters ?? defaultFilters, nominated)
      ? { node: nom! }
      : schedulePod(pod, nodes, opts);
    if ('message' in result) return this.#failed(pod, result, nodes, opts);
    const attempts = this.#unschedulable.get(key);
    this.#unschedulable.delete(key);
    const assumed = { ...pod, spec: { ...pod.spec, nodeName: result.node } };
    this.assumed.set(key, assumed);
    this.#nominated.delete(key);
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
      this.queue.addRateLimited(key);
    }
  }

  #filterContext(nodes: FilterContext['nodes'], opts: ScheduleOptions): FilterContext {
    return { nodes, pvc: opts.pvc, pv: opts.pv, storageClass: opts.storageClass };
  }

  /** Nominated pods by node; empty (and free) when no preemption is pending. */
  #nominatedByNode(): Map<string, KubeObject[]> {
    const out = new Map<string, KubeObject[]>();
    for (const p of this.#nominated.values()) {
      const n = p.status!.nominatedNodeName as string;
      const l = out.get(n);
      if (l) l.push(p); else out.set(n, [p]);
    }
    return out;
  }

  async #failed(pod: KubeObject, result: { message: string; reasons: Record<string, string[]> }, nodes: FilterContext['nodes'], opts: ScheduleOptions): Promise<void> {
    const key = keyOf(pod);
    const n = this.#unschedulable.get(key) ?? 0;
    this.#unschedulable.set(key, n + 1); // before preempting: the victims' deletion retries the pod
    let message = result.message;
    let nominate: string | undefined = pod.status?.nominatedNodeName || undefined;
    if (this.opts.preemption !== false) {
      const plan = planPreemption(pod, result.reasons, {
        nodes, filters: opts.filters, filterContext: this.#filterContext(nodes, opts), pdbs: this.pdbs.lister.list(), nominated: opts.nominated, offset: this.#rr,
      });
      if ('message' in plan) {
        message = `${message} ${plan.message}`;
        // No node could be helped: the pod gives up its nomination (upstream clears it).
        if (!/^preemption: not eligible/.test(plan.message)) {
          nominate = undefined;
          this.#nominated.delete(key);
        }
      } else {
        nominate = plan.candidate.node;
        await this.#preempt(pod, plan.candidate);
      }
    }
    this.recorder.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, 'Warning', 'FailedScheduling', message);
    this.queue.addAfter(key, Math.min(60_000, 1000 * 2 ** Math.min(n, 10)));
    const conds: { type: string; status: string; reason?: string; message?: string }[] = pod.status?.conditions ?? [];
    const cur = conds.find((c) => c.type === 'PodScheduled');
    const sameNomination = (pod.status?.nominatedNodeName || undefined) === nominate;
    if (cur?.status === 'False' && cur.reason === 'Unschedulable' && cur.message === message && sameNomination) return;
    const now = new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const next = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: now };
    // A merge patch (no resourceVersion to conflict on); awaited when the nomination changes, so it lands before
    // the binding that the victims' deletion may trigger at once.
    const status = { phase: pod.status?.phase ?? 'Pending', conditions: [...conds.filter((c) => c.type !== 'PodScheduled'), next], nominatedNodeName: nominate ?? null };
    const write = this.opts.client.patch(core('pods'), pod.metadata.name!, 'merge', { status }, { namespace: pod.metadata.namespace, subresource: 'status' })
      .then(() => undefined, (e) => log.debug('pod condition update failed', { pod: key, err: String(e) }));
    if (!sameNomination) await write;
  }

  /**
   * Applies a preemption plan: nominates the node (in memory at once, so the pods scheduled next leave it room),
   * marks each victim DisruptionTarget=PreemptionByScheduler and deletes it gracefully with a Preempted event, and
   * takes the nomination away from lower-priority pods nominated to the same node.
   */
  async #preempt(pod: KubeObject, c: Candidate): Promise<void> {
    const key = keyOf(pod);
    this.#nominated.set(key, { ...pod, status: { ...pod.status, nominatedNodeName: c.node } });
    log.info('preempting', { pod: key, node: c.node, victims: c.victims.map(keyOf), pdbViolations: c.pdbViolations });
    const now = new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await Promise.all(c.victims.filter((v) => !v.metadata.deletionTimestamp).map(async (v) => {
      const ns = v.metadata.namespace;
      try {
        const conditions = [...(v.status?.conditions ?? []).filter((x: { type: string }) => x.type !== 'DisruptionTarget'),
          { type: 'DisruptionTarget', status: 'True', reason: PREEMPTION_BY_SCHEDULER, message: `${pod.spec?.schedulerName ?? 'default-scheduler'}: preempting to accommodate a higher priority pod`, lastProbeTime: null, lastTransitionTime: now }];
        await this.opts.client.patch(core('pods'), v.metadata.name!, 'merge', { status: { conditions } }, { namespace: ns, subresource: 'status' });
        await this.opts.client.delete(core('pods'), v.metadata.name!, ns, { preconditions: { uid: v.metadata.uid } });
        this.recorder.event({ ...v, apiVersion: 'v1', kind: 'Pod' }, 'Normal', 'Preempted', `Preempted by pod ${pod.metadata.uid} on node ${c.node}`);
      } catch (e) {
        if (!isNotFound(e)) log.warn('preempting a victim failed', { pod: key, victim: keyOf(v), err: String(e) });
      }
    }));
    const prio = podPriority(pod);
    for (const [k, p] of this.#nominated) {
      if (k === key || p.status?.nominatedNodeName !== c.node || podPriority(p) >= prio) continue;
      this.#nominated.delete(k);
      this.opts.client.patch(core('pods'), p.metadata.name!, 'merge', { status: { nominatedNodeName: null } }, { namespace: p.metadata.namespace, subresource: 'status' })
        .catch((e) => log.debug('clearing a nomination failed', { pod: k, err: String(e) }));
      this.queue.add(k);
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.pods.waitForSync(signal), this.nodes.waitForSync(signal)]);
    if (signal.aborted) return;
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) break;
      try {
        await this.scheduleOne(key);
        this.queue.forget(key);
      } catch (e) {
        log.debug('scheduling failed; requeued', { pod: key, err: String(e) });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
    await Promise.allSettled([...this.#binds]);
  }
}

function nodeChanged(a: KubeObject, b: KubeObject): boolean {
  const pick = (n: KubeObject) => JSON.stringify([n.metadata.labels, n.spec?.taints, n.spec?.unschedulable, n.status?.allocatable,
    (n.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready')?.status]);
  return pick(a) !== pick(b);
}
