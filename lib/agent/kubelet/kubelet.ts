// The kubelet: pods bound to this node (informer with a spec.nodeName field selector) are synced by one worker per
// pod: relist the runtime (CRI polling, 1 s; containerd 1.6 has no event stream), compute the plan
// (actions.ts), apply it, then write the pod status only when it changed.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { core, isConflict, isNotFound, type Client, type KubeObject } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { nullRecorder, type EventRecorder } from '../../controller/events.ts';
import { Informer } from '../../controller/informer.ts';
import { logger } from '../../log/logger.ts';
import { execRunner, type CommandRunner } from '../exec/runner.ts';
import type { CriRuntime, DNSConfig, PodSandboxConfig } from '../cri/types.ts';
import { ensureImage, ImagePullError } from '../images/pull.ts';
import type { RegistriesConfig } from '../images/registries.ts';
import { startNode, type NodeOptions } from '../node/node.ts';
import { podCgroupParent, removePodCgroups } from './cgroups.ts';
import { podDnsConfig } from '../dns/pod-dns-config.ts';
import { parseResolvConf, type ResolvConf } from '../dns/resolv-conf.ts';
import { computePodActions, latestIn, type PodActions } from './actions.ts';
import { Backoff } from './backoff.ts';
import { containerConfig, etcHosts, podLogDir, sandboxConfig } from './cri-config.ts';
import { ConfigError, containerEnv, type ObjectSource } from './env.ts';
import { killPod, runHook, stopContainerGracefully } from './lifecycle.ts';
import { isSidecar, podContainers, podKey, type ContainerSpec, type Pod, type PodCondition, type PodStatus } from './pod-types.ts';
import { defaultProbeRunner, ProbeManager, type ProbeRunner } from './probes.ts';
import type { ContainerKind } from './labels.ts';
import { runtimeHandlerOf } from './runtime-class.ts';
import { emptyState, RuntimeCache, type PodRuntimeState, type RuntimeContainer } from './runtime-state.ts';
import { followLogFile, readLogFile, renderLogs, type LogOptions } from './logs.ts';
import { defaultStartSlots, StartGate } from './start-gate.ts';
import { computePodStatus, qosClass, sameStatus } from './status.ts';
import { containerMounts, setUpVolumes, tearDownPodDir } from './volumes.ts';

const log = logger('agent/kubelet');

export interface KubeletOptions {
  client: Client;
  cri: CriRuntime;
  nodeName: string;
  dataDir: string;
  signal: AbortSignal;
  clock?: Clock;
  nodeIP?: string;
  clusterDns?: string[];
  clusterDomain?: string;
  /** Overrides the pod resolv.conf (default: lib/agent/dns podDnsConfig with clusterDns and /etc/resolv.conf). */
  podDnsConfig?: (pod: Pod) => DNSConfig | undefined;
  runner?: CommandRunner;
  /** CRI polling period (default 1000 ms); 0 disables the loop (unit tests call syncPod). */
  relistMs?: number;
  registries?: RegistriesConfig;
  probeRunner?: ProbeRunner;
  nodeAllocatable?: Record<string, string>;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Put pods under /kubepods[/<qos>]/pod<uid> (default true; unit tests turn it off). */
  podCgroups?: boolean;
  /** Volumes of running pods are refreshed (ConfigMap/Secret/token changes) this often (default 60 s). */
  volumeRefreshMs?: number;
  /** Sandbox and container starts run at once (start-gate.ts; default 3 per CPU; 0 = no bound). */
  maxParallelStarts?: number;
  /** Admission: consulted once, when the kubelet first sees a new pod, before anything of it is created (addAdmitHandler adds more). */
  admit?: AdmitHandler;
  /** Pod events (Pulled, Created, Started, Killing, Unhealthy, BackOff, Failed...); default none. */
  recorder?: EventRecorder;
}

export type AdmitResult = { admit: true } | { admit: false; reason: string; message: string };
/** A pod admission check (upstream's lifecycle.PodAdmitHandler): a refused pod is marked Failed and never started. */
export type AdmitHandler = (pod: Pod) => AdmitResult;

export function defaultNodeIP(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

type Waiting = Map<string, { reason: string; message?: string }>;

export class Kubelet {
  readonly informer: Informer<Pod>;
  readonly probes: ProbeManager;
  #o: KubeletOptions;
  #clock: Clock;
  #runtime: RuntimeCache;
  #backoff: Backoff;
  #pullBackoff: Backoff;
  #waiting = new Map<string, Waiting>();
  #working = new Map<string, Promise<void>>();
  #dirty = new Set<string>();
  #volumes = new Map<string, { at: number; paths: Map<string, string> }>();
  #tokens = new Map<string, { token: string; refreshAt: number }>();
  #lastState = new Map<string, PodRuntimeState>();
  #syncBackoff = new Backoff(1000, 30_000);
  #syncFailedAt = new Map<string, number>();
  #fresh = new Set<string>();
  #admitHandlers: AdmitHandler[] = [];
  /** Pods admission has seen, by uid: the rejection of a refused one. */
  #admission = new Map<string, { reason: string; message: string } | undefined>();
  #starts: StartGate;
  #inflight?: Promise<Map<string, PodRuntimeState>>;
  #queued?: Promise<Map<string, PodRuntimeState>>;
  readonly podsDir: string;
  readonly logsDir: string;
  readonly nodeIP: string;

  constructor(o: KubeletOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.#runtime = new RuntimeCache(o.cri);
    this.#backoff = new Backoff(o.backoffInitialMs, o.backoffMaxMs);
    this.#pullBackoff = new Backoff(o.backoffInitialMs, o.backoffMaxMs);
    this.#starts = new StartGate(o.maxParallelStarts ?? defaultStartSlots());
    if (o.admit) this.#admitHandlers.push(o.admit);
    this.podsDir = join(o.dataDir, 'agent', 'pods');
    this.logsDir = join(o.dataDir, 'agent', 'pod-logs');
    this.nodeIP = o.nodeIP ?? defaultNodeIP();
    this.informer = new Informer<Pod>({ client: o.client, ref: core('pods'), fieldSelector: `spec.nodeName=${o.nodeName}`, clock: this.#clock });
    this.informer.addHandler({
      add: (p) => { this.#uids.set(p.metadata.uid!, p); this.schedule(p.metadata.uid!); },
      update: (_o, p) => { this.#uids.set(p.metadata.uid!, p); this.schedule(p.metadata.uid!); },
      delete: (p) => { this.#uids.delete(p.metadata.uid!); this.#admission.delete(p.metadata.uid!); this.schedule(p.metadata.uid!); },
    });
    this.probes = new ProbeManager({
      clock: this.#clock, runner: o.probeRunner ?? defaultProbeRunner(o.cri), onChange: (uid) => this.schedule(uid),
      onFailure: (uid, _container, kind, message) => {
        const pod = this.#pods().get(uid);
        if (pod) this.#event(pod, 'Warning', 'Unhealthy', `${kind[0]!.toUpperCase()}${kind.slice(1)} probe failed: ${message}`);
      },
    });
  }

  /** A pod event, as the kubelet records them (kubectl describe pod). */
  #event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    (this.#o.recorder ?? nullRecorder).event({ ...pod, apiVersion: 'v1', kind: 'Pod' } as KubeObject, type, reason, message);
  }

  /** Killing events for a pod's running containers, before it is stopped. */
  #killingEvents(pod: Pod, state: PodRuntimeState): void {
    for (const c of state.containers) if (c.state === 'CONTAINER_RUNNING') this.#event(pod, 'Normal', 'Killing', `Stopping container ${c.name}`);
  }

  /** Adds an admission check, run in order with the others before a new pod's first sync (add before start()). */
  addAdmitHandler(h: AdmitHandler): void {
    this.#admitHandlers.push(h);
  }

  /**
   * The rejection of a pod admission refused, or undefined. Asked once per pod: a pod the kubelet already started
   * (startTime, or sandboxes/containers in the runtime), a terminal or a deleted one is admitted as it is.
   */
  #admit(pod: Pod, state: PodRuntimeState): { reason: string; message: string } | undefined {
    const uid = pod.metadata.uid!;
    if (this.#admission.has(uid)) return this.#admission.get(uid);
    let rejection: { reason: string; message: string } | undefined;
    const started = pod.status?.startTime || state.sandboxes.length || state.containers.length;
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (!started && !terminal && !pod.metadata.deletionTimestamp) {
      for (const h of this.#admitHandlers) {
        let r: AdmitResult;
        try { r = h(pod); } catch (e) { r = { admit: false, reason: 'UnexpectedAdmissionError', message: `Allocate failed due to ${e instanceof Error ? e.message : String(e)}, which is unexpected` }; }
        if (!r.admit) { rejection = { reason: r.reason, message: r.message }; break; }
      }
    }
    this.#admission.set(uid, rejection);
    if (rejection) log.info('pod rejected by admission', { pod: podKey(pod), reason: rejection.reason, message: rejection.message });
    return rejection;
  }

  /** Starts the informer and the relist loop; resolves once pods are listed. */
  async start(): Promise<void> {
    mkdirSync(this.podsDir, { recursive: true });
    mkdirSync(this.logsDir, { recursive: true });
    void this.informer.run(this.#o.signal);
    await this.informer.waitForSync(this.#o.signal);
    await this.#cleanupOrphanDirs().catch((e) => log.warn('cleaning up pod directories failed', { err: String(e) }));
    if (this.#o.relistMs !== 0) void this.#relistLoop();
  }

  /** Pods bound to this node by uid (kept by the informer handlers). */
  #uids = new Map<string, Pod>();

  #pods(): Map<string, Pod> {
    return this.#uids;
  }

  async #relistLoop(): Promise<void> {
    while (!this.#o.signal.aborted) {
      try {
        const states = await this.relist();
        const pods = this.#pods();
        const now = this.#clock.now();
        for (const uid of new Set([...pods.keys(), ...states.keys()])) {
          const failedAt = this.#syncFailedAt.get(uid);
          if (failedAt !== undefined && this.#syncBackoff.inBackoffSince(uid, failedAt, now)) continue;
          // This relist is fresh: a sync it triggers uses it instead of relisting again.
          if (!this.#working.has(uid)) this.#fresh.add(uid);
          this.schedule(uid);
        }
      } catch (e) {
        log.warn('relist failed', { err: String(e) });
      }
      await this.#clock.sleep(this.#o.relistMs ?? 1000, this.#o.signal);
    }
    this.probes.stopAll();
  }

  /** A relist that starts after this call (coalesced with other callers). */
  relist(): Promise<Map<string, PodRuntimeState>> {
    if (this.#queued) return this.#queued;
    const run = () => this.#runtime.relist().then((m) => { this.#lastState = m; return m; });
    if (!this.#inflight) {
      const p = run().finally(() => { if (this.#inflight === p) this.#inflight = undefined; });
      this.#inflight = p;
      return p;
    }
    const q: Promise<Map<string, PodRuntimeState>> = this.#inflight.catch(() => undefined).then(() => {
      this.#queued = undefined;
      const p = run().finally(() => { if (this.#inflight === p) this.#inflight = undefined; });
      this.#inflight = p;
      return p;
    });
    this.#queued = q;
    return q;
  }

  /** One pod's runtime state, also recorded as its latest relist result. */
  async #relistPod(uid: string): Promise<PodRuntimeState> {
    const st = await this.#runtime.relistPod(uid);
    if (st.sandboxes.length || st.containers.length) this.#lastState.set(uid, st);
    return st;
  }

  /** Syncs the pod soon; never runs two syncs of one pod at once. */
  schedule(uid: string): void {
    if (this.#o.signal.aborted) return;
    if (this.#working.has(uid)) { this.#dirty.add(uid); return; }
    const p = (async () => {
      do {
        this.#dirty.delete(uid);
        try {
          await this.syncPod(uid);
          this.#syncFailedAt.delete(uid);
        } catch (e) {
          // Relist-driven retries back off (1 s doubling to 30 s); watch events still sync at once.
          const now = this.#clock.now();
          const delay = this.#syncBackoff.next(uid, now);
          this.#syncFailedAt.set(uid, now);
          log.warn('pod sync failed', { uid, retryInMs: delay, err: e instanceof Error ? e.message : String(e) });
        }
      } while (this.#dirty.has(uid) && !this.#o.signal.aborted);
    })().finally(() => this.#working.delete(uid));
    this.#working.set(uid, p);
  }

  /** Waits for every pod worker to go idle (tests). */
  async idle(): Promise<void> {
    while (this.#working.size) await Promise.all([...this.#working.values()]);
  }

  #grace(pod: Pod): number {
    return pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  }

  async syncPod(uid: string): Promise<void> {
    const eviction = this.#evictions.get(uid);
    if (eviction) {
      this.#evictions.delete(uid);
      try { return await this.#evict(uid, eviction); } finally { eviction.done(); }
    }
    const frozen = this.#pods().get(uid);
    const states = this.#fresh.delete(uid) ? this.#lastState : await this.relist();
    const state = states.get(uid) ?? emptyState();
    if (!frozen) return this.#cleanupOrphan(uid, state);
    const pod = structuredClone(frozen) as Pod;
    const rejection = pod.metadata.deletionTimestamp ? undefined : this.#admit(pod, state);
    if (rejection) return this.#reject(pod, rejection);
    const actions = computePodActions(pod, state, this.#actionContext(uid, pod));

    if (pod.metadata.deletionTimestamp) return this.#finishDeletion(pod, state, actions);
    if (this.#deadlineExceeded(pod)) {
      log.info('pod exceeded activeDeadlineSeconds', { pod: podKey(pod) });
      await killPod({ cri: this.#o.cri, clock: this.#clock, pod, graceSeconds: this.#grace(pod), podIP: state.sandboxes[0]?.ip }, state);
      this.probes.stopPod(uid);
      const after = (await this.relist()).get(uid) ?? emptyState();
      return this.#writeStatus({ ...pod, status: { ...pod.status, phase: 'Failed' } }, after, {
        reason: 'DeadlineExceeded', message: `Pod was active on the node longer than the specified deadline`,
      });
    }
    if (actions.killPod) {
      this.#killingEvents(pod, state);
      await killPod({ cri: this.#o.cri, clock: this.#clock, pod, graceSeconds: this.#grace(pod), podIP: state.sandboxes[0]?.ip }, state);
    }
    let failure: unknown;
    if (!actions.terminal) await this.#apply(pod, state, actions).catch((e: unknown) => { failure = e ?? new Error('pod sync failed'); });
    else this.probes.stopPod(uid);

    // After a change, this pod's own objects are listed at once (not behind a node-wide relist), so a started container
    // shows as Running in the status written next.
    const fresh = actions.killPod || actions.createSandbox || actions.startInit || actions.startContainers.length || actions.startEphemeral.length
      || actions.killContainers.length ? await this.#relistPod(uid) : state;
    this.#ensureProbes(pod, fresh);
    // As the kubelet does, the status is written even when starting failed (Pending, ContainerCreating); the sync then
    // fails and is retried with backoff.
    await this.#writeStatus(pod, fresh);
    if (failure) throw failure;
  }

  #actionContext(uid: string, pod: Pod) {
    const now = this.#clock.now();
    return {
      inBackoff: (name: string, last: { finishedAt: number }) => this.#backoff.inBackoffSince(`${uid}/${name}`, last.finishedAt || now, now),
      probeKill: (_name: string, id: string) => this.probes.result(uid, id, 'liveness') === 'failure' || this.probes.result(uid, id, 'startup') === 'failure',
      started: (name: string, id: string) => this.#started(pod, uid, name, id),
    };
  }

  #started(pod: Pod, uid: string, name: string, id: string): boolean {
    const spec = podContainers(pod).find((c) => c.name === name);
    return !spec?.startupProbe || this.probes.result(uid, id, 'startup') === 'success';
  }

  async #apply(pod: Pod, state: PodRuntimeState, a: PodActions): Promise<void> {
    const uid = pod.metadata.uid!;
    const waiting = this.#waitingOf(uid);
    const specs = new Map(podContainers(pod).map((s) => [s.name, s]));
    for (const k of a.killContainers) {
      const c = state.containers.find((x) => x.id === k.id)!;
      const spec = specs.get(k.name);
      const probeGrace = spec?.livenessProbe?.terminationGracePeriodSeconds;
      log.info('killing container', { pod: podKey(pod), container: k.name, reason: k.reason });
      this.#event(pod, 'Normal', 'Killing', k.reason === 'probe failed'
        ? `Container ${k.name} failed ${this.probes.result(uid, k.id, 'startup') === 'failure' ? 'startup' : 'liveness'} probe, will be restarted`
        : k.reason === 'spec changed' ? `Container ${k.name} definition changed, will be restarted` : `Stopping container ${k.name}`);
      await stopContainerGracefully({ cri: this.#o.cri, clock: this.#clock, pod, graceSeconds: probeGrace ?? pod.spec.terminationGracePeriodSeconds ?? 30, podIP: state.sandboxes[0]?.ip }, c, spec);
      this.#runtime.invalidate(k.id);
      const dead = { ...c, state: 'CONTAINER_EXITED' as const, finishedAt: this.#clock.now() };
      state.containers = state.containers.map((x) => (x.id === c.id ? dead : x));
    }
    for (const id of a.removeContainers) await this.#o.cri.removeContainer(id).catch((e) => log.debug('remove container', { id, err: String(e) }));
    for (const id of a.removeSandboxes) {
      log.info('removing an old sandbox', { pod: podKey(pod), sandbox: id });
      await this.#o.cri.stopPodSandbox(id).catch(() => {});
      await this.#o.cri.removePodSandbox(id).catch((e) => log.debug('remove sandbox', { id, err: String(e) }));
    }
    for (const name of a.backoff) {
      const d = this.#backoff.delay(`${uid}/${name}`) ?? 10_000;
      waiting.set(name, { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(d / 1000)}s restarting failed container=${name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${uid})` });
      this.#event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${uid})`);
    }

    let sandboxId = state.sandboxes[0]?.id;
    let podIP = state.sandboxes[0]?.ip;
    const sbConfig = sandboxConfig(pod, {
      logsRoot: this.logsDir, attempt: a.createSandbox ? a.sandboxAttempt : (state.sandboxes[0]?.attempt ?? 0), dns: this.#dns(pod),
      cgroupParent: this.#o.podCgroups === false ? '' : podCgroupParent(pod),
    });
    if (a.createSandbox) {
      if (!pod.spec.hostNetwork && !(await this.#networkReady())) {
        log.debug('waiting for the pod network before creating the sandbox', () => ({ pod: podKey(pod) }));
        return;
      }
      mkdirSync(sbConfig.log_directory!, { recursive: true });
      await this.#volumesFor(pod, podIP, true);
      log.info('creating sandbox', { pod: podKey(pod), attempt: a.sandboxAttempt });
      if (state.sandboxes.length) this.#event(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      const t0 = performance.now();
      try {
        const handler = await runtimeHandlerOf(this.#o.client, pod);
        sandboxId = await this.#starts.run('sandbox', () => this.#o.cri.runPodSandbox(sbConfig, handler));
      } catch (e) {
        this.#event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      }
      podIP = (await this.#o.cri.podSandboxStatus(sandboxId))?.network?.ip || undefined;
      log.info('sandbox created', { pod: podKey(pod), ms: Math.round(performance.now() - t0) });
    }
    if (!sandboxId) return;
    const toStart = [...(a.startInit ? [a.startInit] : []), ...a.startContainers, ...a.startEphemeral];
    if (!toStart.length) { await this.#volumesFor(pod, podIP, false); return; }
    const volumes = await this.#volumesFor(pod, podIP, false);
    for (const name of toStart) {
      const spec = specs.get(name)!;
      const ephemeral = pod.spec.ephemeralContainers?.find((c) => c.name === name);
      const kind = ephemeral ? 'ephemeral' : pod.spec.initContainers?.some((c) => c.name === name) ? (isSidecar(spec) ? 'sidecar' : 'init') : 'regular';
      const target = ephemeral?.targetContainerName ? latestIn(state, sandboxId, ephemeral.targetContainerName) : undefined;
      const targetId = target?.state === 'CONTAINER_RUNNING' ? target.id : undefined;
      await this.#startContainer({ pod, spec, kind, sandboxId, sbConfig, podIP, volumes, state, waiting, targetId });
    }
  }

  #netReady = { at: -Infinity, ok: false };

  /** The runtime's NetworkReady condition (the CNI config exists), cached for a second. */
  async #networkReady(): Promise<boolean> {
    const now = this.#clock.now();
    if (this.#netReady.ok || now - this.#netReady.at < 1000) return this.#netReady.ok;
    const st = await this.#o.cri.status().catch(() => ({ conditions: [] }));
    this.#netReady = { at: now, ok: st.conditions.find((c) => c.type === 'NetworkReady')?.status ?? false };
    return this.#netReady.ok;
  }

  #waitingOf(uid: string): Waiting {
    let w = this.#waiting.get(uid);
    if (!w) this.#waiting.set(uid, (w = new Map()));
    return w;
  }

  #dns(pod: Pod): DNSConfig | undefined {
    if (this.#o.podDnsConfig) return this.#o.podDnsConfig(pod);
    this.#hostResolv ??= parseResolvConf((() => { try { return readFileSync('/etc/resolv.conf', 'utf8'); } catch { return ''; } })());
    return podDnsConfig(pod, { clusterDns: this.#o.clusterDns?.[0] ?? '', domain: this.#o.clusterDomain ?? 'cluster.local', hostResolv: this.#hostResolv });
  }

  #hostResolv?: ResolvConf;

  #objectSource(ns: string): ObjectSource {
    const get = async (resource: string, name: string): Promise<KubeObject | undefined> => {
      try {
        return await this.#o.client.get(core(resource), name, ns);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    };
    return { configMap: (n) => get('configmaps', n), secret: (n) => get('secrets', n) };
  }

  async #volumesFor(pod: Pod, podIP: string | undefined, force: boolean): Promise<Map<string, string>> {
    const uid = pod.metadata.uid!;
    const now = this.#clock.now();
    const hit = this.#volumes.get(uid);
    if (hit && !force && now - hit.at < (this.#o.volumeRefreshMs ?? 60_000)) return hit.paths;
    const paths = await setUpVolumes(pod, {
      podsDir: this.podsDir, src: this.#objectSource(pod.metadata.namespace ?? 'default'), client: this.#o.client, runner: this.#o.runner ?? execRunner,
      field: { podIP, hostIP: this.nodeIP, nodeName: this.#o.nodeName }, nodeAllocatable: this.#o.nodeAllocatable, now, tokens: this.#tokens,
    });
    this.#volumes.set(uid, { at: now, paths });
    return paths;
  }

  async #startContainer(o: {
    pod: Pod; spec: ContainerSpec; kind: ContainerKind; sandboxId: string; sbConfig: PodSandboxConfig; podIP?: string;
    volumes: Map<string, string>; state: PodRuntimeState; waiting: Waiting; targetId?: string;
  }): Promise<void> {
    const { pod, spec, waiting } = o;
    const uid = pod.metadata.uid!;
    const now = this.#clock.now();
    const pullKey = `${uid}/${spec.name}/${spec.image}`;
    const lastFailure = this.#lastPullFailure.get(pullKey);
    if (lastFailure !== undefined && this.#pullBackoff.inBackoffSince(pullKey, lastFailure, now)) {
      waiting.set(spec.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${spec.image}"` });
      this.#event(pod, 'Normal', 'BackOff', `Back-off pulling image "${spec.image}"`);
      this.#event(pod, 'Warning', 'Failed', 'Error: ImagePullBackOff');
      return;
    }
    let image: string;
    try {
      const secrets: KubeObject[] = [];
      for (const s of pod.spec.imagePullSecrets ?? []) {
        const obj = await this.#objectSource(pod.metadata.namespace ?? 'default').secret(s.name);
        if (obj) secrets.push(obj);
      }
      image = await ensureImage({
        cri: this.#o.cri, image: spec.image, policy: spec.imagePullPolicy, secrets, registries: this.#o.registries,
        onEvent: (type, reason, message) => this.#event(pod, type, reason, message),
        // As the kubelet does, the pod shows its IP and ContainerCreating while an image is pulled (which may take long).
        beforePull: async () => this.#writeStatus(pod, await this.#relistPod(uid)),
      });
      this.#pullBackoff.reset(pullKey);
      this.#lastPullFailure.delete(pullKey);
    } catch (e) {
      if (!(e instanceof ImagePullError)) throw e;
      if (e.reason === 'ErrImagePull') {
        this.#pullBackoff.next(pullKey, now);
        this.#lastPullFailure.set(pullKey, now);
      }
      waiting.set(spec.name, { reason: e.reason, message: e.message });
      this.#event(pod, 'Warning', 'Failed', `Error: ${e.reason}`);
      log.info('image not available', { pod: podKey(pod), container: spec.name, reason: e.reason, err: e.message });
      return;
    }
    const previous = latestIn(o.state, undefined, spec.name);
    const prevStatus = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === spec.name);
    const attempt = previous ? previous.attempt + 1 : prevStatus && (prevStatus.state.terminated || prevStatus.lastState.terminated || prevStatus.state.running) ? prevStatus.restartCount + 1 : 0;
    let config;
    try {
      const env = await containerEnv(pod, spec, this.#objectSource(pod.metadata.namespace ?? 'default'), { podIP: o.podIP, hostIP: this.nodeIP, nodeName: this.#o.nodeName }, this.#o.nodeAllocatable);
      const mounts = containerMounts(spec, o.volumes, pod);
      const termFile = this.#terminationFile(uid, spec.name, attempt);
      mkdirSync(dirname(termFile), { recursive: true });
      writeFileSync(termFile, '');
      mounts.push({ container_path: spec.terminationMessagePath ?? '/dev/termination-log', host_path: termFile });
      if (!pod.spec.hostNetwork && !mounts.some((m) => m.container_path === '/etc/hosts')) {
        const hostsFile = join(this.podsDir, uid, 'etc-hosts');
        const text = etcHosts(pod, o.podIP, this.#o.clusterDomain ?? 'cluster.local');
        let same = false;
        try { same = readFileSync(hostsFile, 'utf8') === text; } catch { /* new */ }
        if (!same) writeFileSync(hostsFile, text, { mode: 0o644 });
        mounts.push({ container_path: '/etc/hosts', host_path: hostsFile });
      }
      config = containerConfig(pod, spec, { kind: o.kind, attempt, env, mounts, image, targetId: o.targetId });
      await this.#checkNonRoot(pod, spec, image);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      waiting.set(spec.name, { reason: 'CreateContainerConfigError', message: e.message });
      this.#event(pod, 'Warning', 'Failed', `Error: ${e.message}`);
      return;
    }
    if (previous && previous.state === 'CONTAINER_EXITED') this.#backoff.next(`${uid}/${spec.name}`, now);
    mkdirSync(join(o.sbConfig.log_directory!, spec.name), { recursive: true });
    log.info('starting container', { pod: podKey(pod), container: spec.name, attempt });
    let id: string;
    try {
      id = await this.#starts.run('container', () => this.#o.cri.createContainer(o.sandboxId, config!, o.sbConfig));
    } catch (e) {
      waiting.set(spec.name, { reason: 'CreateContainerError', message: e instanceof Error ? e.message : String(e) });
      this.#event(pod, 'Warning', 'Failed', `Error: ${e instanceof Error ? e.message : String(e)}`);
      log.info('creating container failed', { pod: podKey(pod), container: spec.name, err: String(e) });
      return;
    }
    this.#event(pod, 'Normal', 'Created', `Created container ${spec.name}`);
    try {
      await this.#starts.run('container', () => this.#o.cri.startContainer(id));
    } catch (e) {
      waiting.set(spec.name, { reason: 'RunContainerError', message: e instanceof Error ? e.message : String(e) });
      this.#event(pod, 'Warning', 'Failed', `Error: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.#event(pod, 'Normal', 'Started', `Started container ${spec.name}`);
    waiting.delete(spec.name);
    log.info('container started', { pod: podKey(pod), container: spec.name });
    if (spec.lifecycle?.postStart) {
      try {
        await runHook(this.#o.cri, this.#clock, spec.lifecycle.postStart, id, o.podIP, pod.spec.terminationGracePeriodSeconds ?? 30);
      } catch (e) {
        log.info('postStart hook failed; killing container', { pod: podKey(pod), container: spec.name, err: String(e) });
        this.#event(pod, 'Warning', 'FailedPostStartHook', `PostStartHook failed: ${e instanceof Error ? e.message : String(e)}`);
        await this.#o.cri.stopContainer(id, 2);
      }
    }
  }

  #lastPullFailure = new Map<string, number>();
  #termMessages = new Map<string, string>();

  #terminationFile(uid: string, name: string, attempt: number): string {
    return join(this.podsDir, uid, 'containers', name, `${attempt}-termination-log`);
  }

  /** terminationMessagePath content (4 KiB at most), or with FallbackToLogsOnError the log tail of a failed container. */
  #terminationMessage(pod: Pod, c: RuntimeContainer): string | undefined {
    if (c.state !== 'CONTAINER_EXITED') return undefined;
    const hit = this.#termMessages.get(c.id);
    if (hit !== undefined) return hit;
    let msg = '';
    try { msg = readFileSync(this.#terminationFile(pod.metadata.uid!, c.name, c.attempt), 'utf8').slice(0, 4096); } catch { /* none */ }
    const spec = podContainers(pod).find((x) => x.name === c.name);
    if (!msg && c.exitCode !== 0 && spec?.terminationMessagePolicy === 'FallbackToLogsOnError' && c.logPath) {
      try { msg = renderLogs(readFileSync(c.logPath, 'utf8'), { tailLines: 80 }).slice(-2048); } catch { /* no log */ }
    }
    if (this.#termMessages.size > 10_000) this.#termMessages.clear();
    this.#termMessages.set(c.id, msg);
    return msg;
  }

  async #checkNonRoot(pod: Pod, spec: ContainerSpec, image: string): Promise<void> {
    const nonRoot = spec.securityContext?.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot;
    if (!nonRoot) return;
    const uidSet = spec.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser;
    if (uidSet === 0) throw new ConfigError('container\'s runAsUser breaks non-root policy');
    if (uidSet !== undefined) return;
    const img = await this.#o.cri.imageStatus(image);
    const u = img?.uid?.value;
    if ((u === undefined || Number(u) === 0) && !(img?.username && img.username !== 'root' && img.username !== '0')) {
      throw new ConfigError('container has runAsNonRoot and image will run as root');
    }
  }

  #ensureProbes(pod: Pod, state: PodRuntimeState): void {
    const uid = pod.metadata.uid!;
    const sb = state.sandboxes[0];
    const keep = new Set<string>();
    if (sb && sb.state === 'SANDBOX_READY') {
      for (const spec of [...(pod.spec.initContainers ?? []).filter(isSidecar), ...pod.spec.containers]) {
        const c = latestIn(state, sb.id, spec.name);
        if (!c || c.state !== 'CONTAINER_RUNNING') continue;
        keep.add(c.id);
        this.probes.ensure(uid, c.id, spec, () => (pod.spec.hostNetwork ? this.nodeIP : sb.ip));
      }
    }
    this.probes.retain(uid, keep);
  }

  #evictions = new Map<string, { graceSeconds: number; reason: string; message: string; done(): void }>();

  /** Node-pressure eviction (lib/agent/eviction): the pod's worker stops its containers with graceSeconds and marks it Failed with reason and message; resolves when done. */
  evict(uid: string, e: { graceSeconds: number; reason: string; message: string }): Promise<void> {
    return new Promise((done) => {
      this.#evictions.get(uid)?.done();
      this.#evictions.set(uid, { ...e, done });
      this.schedule(uid);
    });
  }

  async #evict(uid: string, e: { graceSeconds: number; reason: string; message: string }): Promise<void> {
    const frozen = this.#pods().get(uid);
    if (!frozen || frozen.metadata.deletionTimestamp || frozen.status?.phase === 'Succeeded' || frozen.status?.phase === 'Failed') return this.syncPod(uid);
    const pod = structuredClone(frozen) as Pod;
    const state = (await this.relist()).get(uid) ?? emptyState();
    log.info('evicting pod', { pod: podKey(pod), grace: e.graceSeconds, reason: e.reason });
    await killPod({ cri: this.#o.cri, clock: this.#clock, pod, graceSeconds: e.graceSeconds, podIP: state.sandboxes[0]?.ip }, state);
    this.probes.stopPod(uid);
    const after = (await this.relist()).get(uid) ?? emptyState();
    // As the kubelet: the pod carries DisruptionTarget (TerminationByKubelet) next to the Evicted reason.
    const conditions: PodCondition[] = [...(pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
      { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: e.message, lastProbeTime: null, lastTransitionTime: new Date(this.#clock.now()).toISOString() }];
    return this.#writeStatus({ ...pod, status: { ...pod.status, phase: 'Failed', conditions } }, after, { reason: e.reason, message: e.message });
  }

  /** A pod admission refused: Failed with the reason, no container statuses, nothing created (upstream rejectPod). */
  async #reject(pod: Pod, r: { reason: string; message: string }): Promise<void> {
    const message = `Pod was rejected: ${r.message}`;
    const status: PodStatus = {
      ...(pod.status?.conditions ? { conditions: pod.status.conditions } : {}),
      phase: 'Failed', reason: r.reason, message, qosClass: pod.status?.qosClass ?? qosClass(pod),
    };
    if (sameStatus(stripUndefined(status), stripUndefined(pod.status ?? {}))) return;
    await this.#putStatus(pod, status);
  }

  #deadlineExceeded(pod: Pod): boolean {
    const d = pod.spec.activeDeadlineSeconds;
    const start = pod.status?.startTime;
    if (!d || !start || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
    return this.#clock.now() - Date.parse(start) >= d * 1000;
  }

  async #writeStatus(pod: Pod, state: PodRuntimeState, extra: Partial<PodStatus> = {}): Promise<void> {
    const uid = pod.metadata.uid!;
    const computed = computePodStatus(pod, state, {
      now: this.#clock.now(), hostIP: this.nodeIP, waiting: this.#waitingOf(uid),
      ready: (name, id) => {
        const spec = podContainers(pod).find((c) => c.name === name);
        return !spec?.readinessProbe || this.probes.result(uid, id, 'readiness') === 'success';
      },
      started: (name, id) => this.#started(pod, uid, name, id),
      terminationMessage: (c) => this.#terminationMessage(pod, c),
    });
    const status: PodStatus = { ...computed, ...(pod.status?.reason ? { reason: pod.status.reason, message: pod.status.message } : {}), ...extra };
    if (sameStatus(stripUndefined(status), stripUndefined(pod.status ?? {}))) return;
    const written = await this.#putStatus(pod, status);
    // A later write in the same sync (after an image pull) starts from this one.
    if (written) { pod.status = written.status; pod.metadata.resourceVersion = written.metadata.resourceVersion; }
  }

  async #putStatus(pod: Pod, status: PodStatus): Promise<Pod | undefined> {
    const uid = pod.metadata.uid!;
    let cur: Pod = pod;
    for (let i = 0; i < 3; i++) {
      try {
        const written = await this.#o.client.update<Pod>(core('pods'), { ...cur, status }, 'status');
        log.debug('pod status written', () => ({ pod: podKey(pod), phase: status.phase }));
        return written;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e)) throw e;
        cur = await this.#o.client.get<Pod>(core('pods'), pod.metadata.name!, pod.metadata.namespace);
        if (cur.metadata.uid !== uid) return;
      }
    }
  }

  async #finishDeletion(pod: Pod, state: PodRuntimeState, a: PodActions): Promise<void> {
    const uid = pod.metadata.uid!;
    if (a.killPod) {
      log.info('terminating pod', { pod: podKey(pod), grace: this.#grace(pod) });
      this.#killingEvents(pod, state);
      await killPod({ cri: this.#o.cri, clock: this.#clock, pod, graceSeconds: this.#grace(pod), podIP: state.sandboxes[0]?.ip }, state);
    }
    await this.#removeRuntime(uid, state);
    rmSync(podLogDir(this.logsDir, pod), { recursive: true, force: true });
    try {
      await this.#o.client.delete(core('pods'), pod.metadata.name!, pod.metadata.namespace, { gracePeriodSeconds: 0, preconditions: { uid } });
      log.info('pod deleted', { pod: podKey(pod) });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }

  async #removeRuntime(uid: string, state: PodRuntimeState): Promise<void> {
    this.probes.stopPod(uid);
    for (const c of state.containers) await this.#o.cri.removeContainer(c.id).catch((e) => log.debug('remove container', { err: String(e) }));
    for (const s of state.sandboxes) {
      await this.#o.cri.stopPodSandbox(s.id).catch(() => {});
      await this.#o.cri.removePodSandbox(s.id);
    }
    await tearDownPodDir(this.podsDir, uid, this.#o.runner ?? execRunner);
    if (this.#o.podCgroups !== false) removePodCgroups(uid);
    this.#volumes.delete(uid);
    this.#waiting.delete(uid);
    this.#backoff.resetPrefix(`${uid}/`);
    this.#pullBackoff.resetPrefix(`${uid}/`);
    for (const k of this.#lastPullFailure.keys()) if (k.startsWith(`${uid}/`)) this.#lastPullFailure.delete(k);
    this.#syncFailedAt.delete(uid);
    for (const k of this.#tokens.keys()) if (k.startsWith(`${uid}/`)) this.#tokens.delete(k);
  }

  /** Pod and log directories of pods that are neither in the API nor in the runtime (deleted while tsk was down). */
  async #cleanupOrphanDirs(): Promise<void> {
    const states = await this.relist();
    const known = (uid: string) => this.#uids.has(uid) || states.has(uid);
    for (const uid of readdirSync(this.podsDir)) {
      if (known(uid)) continue;
      log.info('removing the directory of a pod that is gone', { uid });
      await tearDownPodDir(this.podsDir, uid, this.#o.runner ?? execRunner);
      if (this.#o.podCgroups !== false) removePodCgroups(uid);
    }
    for (const d of readdirSync(this.logsDir)) {
      const uid = d.split('_')[2];
      if (uid && !known(uid)) rmSync(join(this.logsDir, d), { recursive: true, force: true });
    }
  }

  /** Runtime objects of a pod that no longer exists in the API: stop and remove them. */
  async #cleanupOrphan(uid: string, state: PodRuntimeState): Promise<void> {
    if (!state.sandboxes.length && !state.containers.length) {
      this.probes.stopPod(uid);
      return;
    }
    log.info('removing containers of a pod that is gone', { uid });
    for (const c of state.containers) if (c.state === 'CONTAINER_RUNNING') await this.#o.cri.stopContainer(c.id, 2).catch(() => {});
    await this.#removeRuntime(uid, state);
  }

  /** The pod bound to this node with that namespace/name. */
  /** Running containers and their log files, from the latest relist (log rotation). */
  *runningLogs(): Generator<{ id: string; logPath: string }> {
    for (const st of this.#lastState.values()) for (const c of st.containers) if (c.state === 'CONTAINER_RUNNING') yield { id: c.id, logPath: c.logPath };
  }

  pod(namespace: string, name: string): Pod | undefined {
    return this.informer.cache.get(name, namespace);
  }

  /** The newest container (or the one before it with previous) of a pod; container defaults to the only one. */
  async findContainer(namespace: string, podName: string, container?: string, previous = false): Promise<{ pod: Pod; container: RuntimeContainer; sandboxId: string }> {
    const pod = this.pod(namespace, podName);
    if (!pod) throw new KubeletError(404, `pod ${namespace}/${podName} is not on node ${this.#o.nodeName}`);
    const names = podContainers(pod).map((c) => c.name);
    const name = container ?? (pod.spec.containers.length === 1 ? pod.spec.containers[0]!.name : undefined);
    if (!name) throw new KubeletError(400, `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`);
    if (!names.includes(name)) throw new KubeletError(400, `container ${name} is not valid for pod ${podName}`);
    const state = (await this.relist()).get(pod.metadata.uid!) ?? emptyState();
    const mine = state.containers.filter((c) => c.name === name);
    const c = mine[previous ? 1 : 0];
    if (!c) throw new KubeletError(400, previous ? `previous terminated container "${name}" in pod "${podName}" not found` : `container "${name}" in pod "${podName}" is waiting to start`);
    return { pod, container: c, sandboxId: c.sandboxId };
  }

  /** kubectl logs: the rendered text, or (follow) chunks until the container stops. */
  async logs(namespace: string, podName: string, o: LogOptions & { container?: string; previous?: boolean; follow?: boolean; signal?: AbortSignal } = {}): Promise<AsyncIterable<string>> {
    const { container } = await this.findContainer(namespace, podName, o.container, o.previous);
    if (!o.follow) {
      const text = await readLogFile(container.logPath, o);
      return (async function* () { yield text; })();
    }
    const signal = o.signal ? AbortSignal.any([o.signal, this.#o.signal]) : this.#o.signal;
    return followLogFile(container.logPath, { ...o, signal, stillRunning: async () => (await this.#o.cri.containerStatus(container.id))?.state === 'CONTAINER_RUNNING' });
  }

  /** Streaming URL on the runtime's stream server for exec (kubectl exec). */
  async exec(namespace: string, podName: string, o: { container?: string; command: string[]; stdin?: boolean; stdout?: boolean; stderr?: boolean; tty?: boolean }): Promise<string> {
    const { container } = await this.findContainer(namespace, podName, o.container);
    if (container.state !== 'CONTAINER_RUNNING') throw new KubeletError(400, `container ${container.name} is not running`);
    return this.#o.cri.exec({ container_id: container.id, cmd: o.command, stdin: !!o.stdin, stdout: o.stdout ?? true, stderr: o.stderr ?? !o.tty, tty: !!o.tty });
  }

  async attach(namespace: string, podName: string, o: { container?: string; stdin?: boolean; stdout?: boolean; stderr?: boolean; tty?: boolean }): Promise<string> {
    const { container } = await this.findContainer(namespace, podName, o.container);
    return this.#o.cri.attach({ container_id: container.id, stdin: !!o.stdin, stdout: o.stdout ?? true, stderr: o.stderr ?? !o.tty, tty: !!o.tty });
  }

  async portForward(namespace: string, podName: string, ports: number[]): Promise<string> {
    const pod = this.pod(namespace, podName);
    const sb = pod && this.#lastState.get(pod.metadata.uid!)?.sandboxes.find((s) => s.state === 'SANDBOX_READY');
    if (!sb) throw new KubeletError(404, `pod ${namespace}/${podName} has no running sandbox`);
    return this.#o.cri.portForward(sb.id, ports);
  }

  /** Latest relist result for a pod (tests, stats). */
  runtimeState(uid: string): PodRuntimeState | undefined { return this.#lastState.get(uid); }
}

/** A kubelet API error with the HTTP status the API server should answer. */
export class KubeletError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

function stripUndefined<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export interface StartKubeletOptions extends KubeletOptions {
  /** Register the Node and keep its lease and status fresh (default true). */
  registerNode?: boolean;
  /** Servers: label node-role.kubernetes.io/control-plane=true. */
  controlPlane?: boolean;
  /** Extra node labels, key=value. */
  nodeLabels?: string[];
  /** Taints to register the Node with (key[=value]:Effect). */
  nodeTaints?: string[];
  /** More options for the node's registration and status (eviction's pressure conditions). */
  nodeOptions?: Partial<Omit<NodeOptions, 'client' | 'cri' | 'signal'>>;
}

/** Starts the kubelet; `ready` resolves once the node is registered and the pods bound to it are listed and syncing. */
export function startKubelet(o: StartKubeletOptions): { ready: Promise<void>; stop(): Promise<void>; kubelet: Kubelet } {
  const ac = new AbortController();
  const signal = AbortSignal.any([o.signal, ac.signal]);
  const kubelet = new Kubelet({ ...o, signal });
  const ready = (async () => {
    if (o.registerNode !== false) {
      await startNode({
        client: o.client, cri: o.cri, nodeName: o.nodeName, nodeIP: kubelet.nodeIP, controlPlane: o.controlPlane, labels: o.nodeLabels, taints: o.nodeTaints,
        dataDir: o.dataDir, signal, clock: o.clock, ...o.nodeOptions,
      }).ready;
    }
    await kubelet.start();
  })();
  ready.catch(() => {});
  return {
    ready,
    kubelet,
    async stop() {
      ac.abort();
      kubelet.probes.stopAll();
      await kubelet.idle();
    },
  };
}

export type { PodStatus };
