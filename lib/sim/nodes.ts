// Simulated nodes (like kwok): N Node objects that stay Ready through their Leases in kube-node-lease, and take the
// pods bound to them to Running without containers. One pod informer serves every simulated node, so thousands of
// pods on a hundred nodes cost one watch. Pods of Jobs can complete: a pod whose every container runs exactly
// `true`, or that carries the annotation sim.tsk.io/complete-after-ms, reaches Succeeded after that delay.
import { coordination, core, isAlreadyExists, isNotFound, type Client, type KubeObject } from '../client/types.ts';
import { realClock, type Clock } from '../clock.ts';
import { Informer } from '../controller/informer.ts';
import { logger } from '../log/logger.ts';
import { VERSION } from '../config.ts';

const log = logger('sim');
const nodesRef = core('nodes');
const podsRef = core('pods');
const leasesRef = coordination('leases');

export const COMPLETE_AFTER_ANNOTATION = 'sim.tsk.io/complete-after-ms';
/** On a simulated Node: `stopped` stops its heartbeat (for tests driving a server from outside); removing it resumes. */
export const HEARTBEAT_ANNOTATION = 'sim.tsk.io/heartbeat';

export interface SimNodesOptions {
  client: Client;
  count: number;
  /** Node names are `${prefix}${i}` for i = 1..count. */
  prefix?: string;
  signal: AbortSignal;
  clock?: Clock;
  /** How often each node renews its Lease (default 10 s; the Lease lasts 40 s). */
  leaseRenewMs?: number;
  /** Pod status writes in flight at once (default 16). */
  concurrency?: number;
  capacity?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface SimNodes {
  names: string[];
  /** Resolves when every Node and Lease exists and the pod informer has synced. */
  ready: Promise<void>;
  /** The node stops renewing its Lease and stops acting on its pods, as if it had lost power. */
  stopHeartbeat(name: string): void;
  /** The node comes back: renews its Lease, reports Ready and acts on its pods again. */
  resumeHeartbeat(name: string): Promise<void>;
  /** Pod status writes done so far (Running and Succeeded), for benchmarks. */
  stats(): { running: number; succeeded: number; deleted: number };
}

interface PodState {
  running: boolean;
  completing?: { cancel(): void };
  done?: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const micro = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');

/** The fake node IP of node index i (1-based): 10.199.<hi>.<lo>, hosts kept apart from pod ranges. */
function nodeIp(i: number): string {
  return `172.${16 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${i & 255}`;
}

/** Pod IPs of node index i: 10.<128+hi>.<lo>.<1..254>, cycling. */
function podIp(i: number, seq: number): string {
  return `10.${128 + ((i >> 8) & 127)}.${i & 255}.${(seq % 254) + 1}`;
}

/** Every container runs exactly `true` (command + args). */
function runsTrue(pod: KubeObject): boolean {
  const cs: KubeObject[] = pod.spec?.containers ?? [];
  return cs.length > 0 && cs.every((c) => {
    const argv = [...(c.command ?? []), ...(c.args ?? [])];
    return argv.length === 1 && argv[0] === 'true';
  });
}

export function completionDelayMs(pod: KubeObject): number | undefined {
  const a = pod.metadata.annotations?.[COMPLETE_AFTER_ANNOTATION];
  if (a !== undefined && Number.isFinite(Number(a))) return Math.max(0, Number(a));
  return runsTrue(pod) ? 0 : undefined;
}

export function simNodeObject(name: string, index: number, o: { capacity?: Record<string, string>; labels?: Record<string, string>; now: number }): KubeObject {
  const capacity = o.capacity ?? { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '1Ti' };
  const t = iso(o.now);
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'amd64', type: 'sim', ...o.labels,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'sim.tsk.io/simulated': 'true' },
    },
    spec: {},
    status: {
      capacity, allocatable: capacity,
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'simulated', lastHeartbeatTime: t, lastTransitionTime: t },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'simulated', lastHeartbeatTime: t, lastTransitionTime: t },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'simulated', lastHeartbeatTime: t, lastTransitionTime: t },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated node is posting ready status', lastHeartbeatTime: t, lastTransitionTime: t },
      ],
      addresses: [{ type: 'InternalIP', address: nodeIp(index) }, { type: 'Hostname', address: name }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: '', systemUUID: '', bootID: '', kernelVersion: 'sim', osImage: 'simulated', containerRuntimeVersion: 'sim://0',
        kubeletVersion: VERSION.gitVersion, kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64',
      },
    },
  };
}

export function runningStatus(pod: KubeObject, hostIP: string, ip: string, now: number): Record<string, unknown> {
  const t = iso(now);
  const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t });
  return {
    phase: 'Running', hostIP, hostIPs: [{ ip: hostIP }], podIP: ip, podIPs: [{ ip }], startTime: t,
    conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
    containerStatuses: (pod.spec?.containers ?? []).map((c: KubeObject) => ({
      name: c.name, image: c.image, imageID: `sim://${c.image}`, containerID: `sim://${pod.metadata.uid}/${c.name}`,
      ready: true, started: true, restartCount: 0, state: { running: { startedAt: t } },
    })),
    initContainerStatuses: (pod.spec?.initContainers ?? []).map((c: KubeObject) => ({
      name: c.name, image: c.image, imageID: `sim://${c.image}`, containerID: `sim://${pod.metadata.uid}/${c.name}`,
      ready: true, started: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: t, finishedAt: t } },
    })),
    qosClass: pod.status?.qosClass ?? 'BestEffort',
  };
}

function succeededStatus(pod: KubeObject, now: number): Record<string, unknown> {
  const t = iso(now);
  const started = pod.status?.startTime ?? t;
  const cond = (type: string, status: string, reason?: string) => ({ type, status, ...(reason ? { reason } : {}), lastProbeTime: null, lastTransitionTime: t });
  return {
    phase: 'Succeeded',
    conditions: [cond('PodReadyToStartContainers', 'False'), cond('Initialized', 'True'), cond('Ready', 'False', 'PodCompleted'), cond('ContainersReady', 'False', 'PodCompleted'), cond('PodScheduled', 'True')],
    containerStatuses: (pod.spec?.containers ?? []).map((c: KubeObject) => ({
      name: c.name, image: c.image, imageID: `sim://${c.image}`, containerID: `sim://${pod.metadata.uid}/${c.name}`,
      ready: false, started: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: t } },
    })),
  };
}

export function startSimNodes(o: SimNodesOptions): SimNodes {
  const { client, signal } = o;
  const clock = o.clock ?? realClock;
  const prefix = o.prefix ?? 'sim-';
  const renewMs = o.leaseRenewMs ?? 10_000;
  const names = Array.from({ length: o.count }, (_, i) => `${prefix}${i + 1}`);
  const index = new Map(names.map((n, i) => [n, i + 1]));
  const stopped = new Set<string>();
  const podSeq = new Map<string, number>();
  const states = new Map<string, PodState>();
  const counters = { running: 0, succeeded: 0, deleted: 0 };

  const pods = new Informer<KubeObject>({ client, ref: podsRef, clock });
  const pending = new Set<string>();
  let inFlight = 0;
  const concurrency = o.concurrency ?? 16;

  const keyOf = (p: KubeObject) => `${p.metadata.namespace}/${p.metadata.name}`;
  const enqueue = (p: KubeObject) => {
    const n = p.spec?.nodeName;
    if (!n || !index.has(n)) return;
    pending.add(keyOf(p));
    pump();
  };
  function pump(): void {
    while (inFlight < concurrency && pending.size && !signal.aborted) {
      const key = pending.values().next().value as string;
      pending.delete(key);
      inFlight++;
      void handle(key)
        .catch((e) => {
          if (signal.aborted) return;
          log.debug('pod sync failed; retrying', { pod: key, err: String(e) });
          clock.setTimeout(() => { pending.add(key); pump(); }, 500);
        })
        .finally(() => { inFlight--; pump(); });
    }
  }

  async function handle(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const pod = pods.lister.get(name, ns);
    if (!pod) return;
    const node = pod.spec?.nodeName as string;
    const uid = pod.metadata.uid!;
    if (!index.has(node) || stopped.has(node)) return;
    let st = states.get(uid);
    if (pod.metadata.deletionTimestamp) {
      st?.completing?.cancel();
      try {
        await client.delete(podsRef, name, ns, { gracePeriodSeconds: 0, preconditions: { uid } });
        counters.deleted++;
      } catch (e) {
        if (!isNotFound(e) && (e as { code?: number }).code !== 409) throw e;
      }
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      if (st) st.done = true;
      return;
    }
    if (!st) states.set(uid, (st = { running: false }));
    if (!st.running && phase !== 'Running') {
      const seq = (podSeq.get(node) ?? 0) + 1;
      podSeq.set(node, seq);
      const status = runningStatus(pod, nodeIp(index.get(node)!), podIp(index.get(node)!, seq), clock.now());
      await client.patch(podsRef, name, 'merge', { status }, { namespace: ns, subresource: 'status' });
      counters.running++;
    }
    st.running = true;
    const delay = completionDelayMs(pod);
    if (delay !== undefined && !st.completing && !st.done) {
      const s = st;
      s.completing = clock.setTimeout(() => {
        const cur = pods.lister.get(name, ns);
        if (!cur || cur.metadata.uid !== uid || stopped.has(node) || signal.aborted) { s.completing = undefined; return; }
        client.patch(podsRef, name, 'merge', { status: succeededStatus(cur, clock.now()) }, { namespace: ns, subresource: 'status' })
          .then(() => { s.done = true; counters.succeeded++; })
          .catch((e) => {
            s.completing = undefined;
            if (!isNotFound(e) && !signal.aborted) { log.debug('pod completion failed; retrying', { pod: key, err: String(e) }); enqueue(cur); }
          });
      }, delay);
    }
  }

  pods.addHandler({
    add: enqueue,
    update: (old, cur) => { if (old !== cur) enqueue(cur); },
    delete: (p) => {
      const st = states.get(p.metadata.uid!);
      st?.completing?.cancel();
      states.delete(p.metadata.uid!);
    },
  });

  // Tests that drive a server process from outside stop and resume heartbeats through a Node annotation.
  const nodes = new Informer<KubeObject>({ client, ref: nodesRef, clock });
  const onNode = (n: KubeObject) => {
    const name = n.metadata.name!;
    if (!index.has(name)) return;
    const want = n.metadata.annotations?.[HEARTBEAT_ANNOTATION] === 'stopped';
    if (want && !stopped.has(name)) { log.info('simulated node stops heartbeating', { node: name }); api.stopHeartbeat(name); }
    else if (!want && stopped.has(name)) {
      log.info('simulated node resumes heartbeating', { node: name });
      api.resumeHeartbeat(name).catch((e) => log.warn('resume failed', { node: name, err: String(e) }));
    }
  };
  nodes.addHandler({ add: onNode, update: (_o, n) => onNode(n) });

  async function register(name: string): Promise<void> {
    const now = clock.now();
    const node = simNodeObject(name, index.get(name)!, { capacity: o.capacity, labels: o.labels, now });
    try {
      await client.create(nodesRef, node);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    // Status is the node's own to report, whether or not create kept it.
    await client.patch(nodesRef, name, 'merge', { status: node.status }, { subresource: 'status' });
    await renew(name);
  }

  async function renew(name: string): Promise<void> {
    const now = micro(clock.now());
    try {
      await client.patch(leasesRef, name, 'merge', { spec: { renewTime: now } }, { namespace: 'kube-node-lease' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        await client.create(leasesRef, {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
          metadata: { name, namespace: 'kube-node-lease', ownerReferences: await nodeOwner(name) },
          spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: now, acquireTime: now },
        }, 'kube-node-lease');
      } catch (e2) {
        if (!isAlreadyExists(e2)) throw e2;
      }
    }
  }

  async function nodeOwner(name: string) {
    const n = await client.get(nodesRef, name).catch(() => undefined);
    return n ? [{ apiVersion: 'v1', kind: 'Node', name, uid: n.metadata.uid! }] : undefined;
  }

  async function inBatches(items: string[], fn: (n: string) => Promise<void>, width = 16): Promise<void> {
    for (let i = 0; i < items.length && !signal.aborted; i += width) await Promise.all(items.slice(i, i + width).map(fn));
  }

  async function heartbeats(): Promise<void> {
    while (!signal.aborted) {
      await clock.sleep(renewMs, signal);
      if (signal.aborted) break;
      await inBatches(names.filter((n) => !stopped.has(n)), (n) => renew(n).catch((e) => log.warn('lease renewal failed', { node: n, err: String(e) })));
    }
  }

  const ready = (async () => {
    await inBatches(names, register);
    void pods.run(signal);
    void nodes.run(signal);
    await Promise.all([pods.waitForSync(signal), nodes.waitForSync(signal)]);
    log.info('simulated nodes registered', { count: names.length, prefix });
    void heartbeats();
  })();
  ready.catch((e) => log.error('simulated nodes failed to start', { err: String(e) }));

  const api: SimNodes = {
    names, ready,
    stopHeartbeat(name) { stopped.add(name); },
    async resumeHeartbeat(name) {
      stopped.delete(name);
      const now = iso(clock.now());
      await renew(name);
      const n = await client.get(nodesRef, name);
      const conditions = (n.status?.conditions ?? []).map((c: KubeObject) => ({
        ...c, status: c.type === 'Ready' ? 'True' : 'False', reason: c.type === 'Ready' ? 'KubeletReady' : c.reason,
        lastHeartbeatTime: now, ...(c.status === 'Unknown' ? { lastTransitionTime: now } : {}),
      }));
      await client.patch(nodesRef, name, 'merge', { status: { conditions } }, { subresource: 'status' });
      for (const p of pods.lister.list()) if (p.spec?.nodeName === name) enqueue(p);
    },
    stats: () => ({ ...counters }),
  };
  return api;
}
