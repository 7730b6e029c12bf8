// Starts the control loops: leader election over one Lease, then — while leading — the scheduler and every
// controller on one set of shared informers. Losing the lease stops them all; the manager campaigns again.
import type { Client, ResourceRef } from '../client/types.ts';
import { realClock, type Clock } from '../clock.ts';
import { ClientEventRecorder, type EventRecorder } from '../controller/events.ts';
import { SharedInformerFactory } from '../controller/factory.ts';
import { LeaderElector } from '../controller/leader-election.ts';
import { logger } from '../log/logger.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import type { ControllerContext, ControllerInit, CsrSigner } from './context.ts';
import { deploymentController } from './deployment.ts';
import { endpointsController } from './endpoints.ts';
import { endpointSliceController } from './endpointslice.ts';
import { endpointSliceMirroringController } from './endpointslice-mirroring.ts';
import { garbageCollectorController } from './garbage-collector.ts';
import { nodeLifecycleController } from './node-lifecycle.ts';
import { podGCController } from './pod-gc.ts';
import { namespaceController } from './namespace.ts';
import { rootCAController } from './root-ca.ts';
import { csrSigningController } from './csr-signing.ts';
import { serviceAccountController } from './serviceaccount.ts';
import { replicaSetController, replicationControllerController } from './replicaset.ts';
import { initJobController } from './job.ts';
import { initCronJobController } from './cronjob.ts';
import { initDaemonSetController } from './daemonset.ts';
import { initStatefulSetController } from './statefulset.ts';
import { initDisruptionController } from './disruption.ts';
import { initHpaController } from './hpa.ts';
import { initKubeDnsController } from './kube-dns.ts';
import { initPvBinderController } from './pv-binder.ts';
import { initLocalPathController } from './local-path.ts';
import { resourceQuotaController } from './resourcequota.ts';

const log = logger('controllers/manager');

/** Every controller by name (the names `disabled` refers to). One line each. */
export const controllers: Record<string, ControllerInit> = {
  job: initJobController,
  cronjob: initCronJobController,
  daemonset: initDaemonSetController,
  statefulset: initStatefulSetController,
  disruption: initDisruptionController,
  horizontalpodautoscaling: (ctx) => initHpaController(ctx),
  deployment: (ctx) => deploymentController(ctx),
  endpoints: (ctx) => endpointsController(ctx),
  endpointslice: (ctx) => endpointSliceController(ctx),
  endpointslicemirroring: (ctx) => endpointSliceMirroringController(ctx),
  garbagecollector: (ctx) => garbageCollectorController(ctx),
  namespace: (ctx) => namespaceController(ctx),
  nodelifecycle: (ctx) => nodeLifecycleController(ctx),
  podgc: (ctx) => podGCController(ctx),
  replicaset: (ctx) => replicaSetController(ctx),
  replicationcontroller: (ctx) => replicationControllerController(ctx),
  'root-ca-cert-publisher': (ctx) => rootCAController(ctx),
  csrsigning: (ctx) => csrSigningController(ctx),
  serviceaccount: (ctx) => serviceAccountController(ctx),
  'kube-dns': initKubeDnsController,
  'persistentvolume-binder': initPvBinderController,
  'local-storage': initLocalPathController,
  resourcequota: (ctx) => resourceQuotaController(ctx),
  scheduler: (ctx) => new Scheduler({ client: ctx.client, factory: ctx.factory, clock: ctx.clock, recorder: ctx.recorder('default-scheduler') }),
};

export interface StartControllersOptions {
  client: Client;
  signal: AbortSignal;
  clock?: Clock;
  leaderElection: { identity: string; namespace?: string; name?: string; leaseDurationSeconds?: number; renewIntervalMs?: number; retryIntervalMs?: number };
  caPem?: string;
  signCsr?: CsrSigner;
  disabled?: string[];
  /** See ControllerContext.namespacedResources, e.g. () => catalog.all().filter((s) => s.namespaced).map(...). */
  namespacedResources?: ResourceRef[] | (() => ResourceRef[]);
  terminatedPodGCThreshold?: number;
  /** Informer resync period (default 10 min; reconciles that change nothing write nothing). */
  resyncMs?: number;
  /** Overrides the controller list (tests). */
  controllers?: Record<string, ControllerInit>;
}

export interface ControllerManager {
  /** Resolves when this instance leads and every informer has synced, or when another instance holds the lease. */
  ready: Promise<void>;
  /** Stops everything and releases the lease. */
  stop(): Promise<void>;
  readonly isLeader: boolean;
}

export function startControllers(o: StartControllersOptions): ControllerManager {
  const clock = o.clock ?? realClock;
  const stopper = new AbortController();
  const signal = AbortSignal.any([o.signal, stopper.signal]);
  const elector = new LeaderElector({ client: o.client, clock, ...o.leaderElection, namespace: o.leaderElection.namespace ?? 'kube-system' });
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  if (signal.aborted) markReady();
  else signal.addEventListener('abort', () => markReady(), { once: true });
  const list = o.controllers ?? controllers;
  const disabled = new Set(o.disabled ?? []);

  const lead = async (leaderSignal: AbortSignal) => {
    const factory = new SharedInformerFactory({ client: o.client, clock, resyncMs: o.resyncMs ?? 600_000 });
    const recorders: ClientEventRecorder[] = [];
    const ctx: ControllerContext = {
      client: o.client, factory, clock, caPem: o.caPem, signCsr: o.signCsr, namespacedResources: o.namespacedResources,
      terminatedPodGCThreshold: o.terminatedPodGCThreshold,
      recorder: (component): EventRecorder => {
        const r = new ClientEventRecorder({ client: o.client, component, clock, host: o.leaderElection.identity });
        recorders.push(r);
        return r;
      },
    };
    const runnables = Object.entries(list).filter(([name]) => !disabled.has(name)).map(([name, init]) => ({ name, r: init(ctx) }));
    factory.start(leaderSignal);
    await factory.waitForSync(leaderSignal);
    log.info('controllers started', { count: runnables.length, disabled: [...disabled] });
    markReady();
    await Promise.all(runnables.map(({ name, r }) => r.run(leaderSignal).catch((e) => log.error('controller failed', { name, err: String(e) }))));
    await factory.stopped();
    await Promise.allSettled(recorders.map((r) => r.flush()));
  };

  const done = (async () => {
    while (!signal.aborted) {
      const standby = setStandbyReady();
      await elector.run(signal, lead).catch((e) => log.error('leader election failed', { err: String(e) }));
      standby.cancel();
      if (!signal.aborted) await clock.sleep(1000, signal);
    }
  })();

  // A candidate that finds the lease held elsewhere is "ready" as a standby.
  function setStandbyReady(): { cancel(): void } {
    let cancelled = false;
    void (async () => {
      try {
        const lease = await o.client.get(coordinationLeases, elector.opts.name, elector.opts.namespace);
        const holder = lease.spec?.holderIdentity;
        if (!cancelled && holder && holder !== o.leaderElection.identity) markReady();
      } catch { /* absent: we will acquire it */ }
    })();
    return { cancel: () => { cancelled = true; } };
  }

  return {
    ready,
    get isLeader() { return elector.isLeader; },
    async stop() {
      stopper.abort();
      await done;
    },
  };
}

const coordinationLeases = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
