// Node registration, the kube-node-lease heartbeat (every 10 s) and node status (written when it changes or every
// 5 minutes).
import { coordination, core, isAlreadyExists, isConflict, isNotFound, type Client, type KubeObject } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { ClientEventRecorder, type EventRecorder } from '../../controller/events.ts';
import { logger } from '../../log/logger.ts';
import type { CriRuntime } from '../cri/types.ts';
import { machineFacts, type MachineFacts } from './facts.ts';
import { newNode, nodeLabels, nodeStatus, statusChanged, type EvictionReserve, type NodeIdentity, type NodePressure, type RuntimeHealth } from './node-object.ts';
import { STORAGE_DIR_ANNOTATION, storageDirOf } from '../kubelet/pvc-volume-gc.ts';
import { compareText } from '../compare.ts';

const log = logger('agent/node');

export interface NodeOptions extends Omit<NodeIdentity, 'containerRuntimeVersion'> {
  client: Client;
  cri: Pick<CriRuntime, 'version' | 'status'> & Partial<Pick<CriRuntime, 'listImages'>>;
  dataDir: string;
  signal: AbortSignal;
  clock?: Clock;
  /** Tests inject facts. */
  facts?: () => MachineFacts;
  leaseMs?: number;
  statusCheckMs?: number;
  statusForceMs?: number;
  /** Pressure conditions to report True (the eviction manager's); none when absent. */
  pressure?: () => NodePressure;
  /** Allocatable = capacity − these (the hard eviction thresholds). */
  evictionReserve?: EvictionReserve;
  /** Resolves whenever the status should be checked at once (a pressure condition changed). */
  statusNudge?: () => Promise<void>;
  /** Node events (Starting, NodeReady, NodeHasSufficientMemory...); default: events written through client as "kubelet". */
  recorder?: EventRecorder;
}

// Upstream kubelet's event reasons for node condition statuses (pkg/kubelet/nodestatus/setters.go).
const CONDITION_EVENTS: Record<string, Record<string, string>> = {
  Ready: { True: 'NodeReady', False: 'NodeNotReady' },
  MemoryPressure: { False: 'NodeHasSufficientMemory', True: 'NodeHasInsufficientMemory' },
  DiskPressure: { False: 'NodeHasNoDiskPressure', True: 'NodeHasDiskPressure' },
  PIDPressure: { False: 'NodeHasSufficientPID', True: 'NodeHasInsufficientPID' },
};

type Conditions = { type: string; status: string }[] | undefined;

/** The events for conditions whose status differs from before (all of them on the first status), in upstream's order. */
export function conditionEvents(before: Conditions, after: Conditions): string[] {
  const out: string[] = [];
  for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']) {
    const now = after?.find((c) => c.type === type)?.status;
    if (!now || before?.find((c) => c.type === type)?.status === now) continue;
    const reason = CONDITION_EVENTS[type]![now];
    if (reason) out.push(reason);
  }
  return out;
}

function recordConditions(o: NodeOptions, recorder: EventRecorder, node: KubeObject, before: Conditions): void {
  for (const reason of conditionEvents(before, node.status?.conditions)) {
    recorder.event({ ...node, apiVersion: 'v1', kind: 'Node' }, 'Normal', reason, `Node ${o.nodeName} status is now: ${reason}`);
  }
}

async function runtimeVersion(cri: NodeOptions['cri']): Promise<string> {
  try {
    const v = await cri.version();
    return `${v.runtime_name}://${v.runtime_version}`;
  } catch {
    return 'containerd://unknown';
  }
}

async function health(cri: NodeOptions['cri']): Promise<RuntimeHealth> {
  try {
    const st = await cri.status();
    const get = (t: string) => st.conditions.find((c) => c.type === t);
    const rt = get('RuntimeReady');
    const net = get('NetworkReady');
    const bad = [rt, net].find((c) => !c?.status);
    return { runtimeReady: !!rt?.status, networkReady: !!net?.status, message: bad ? `${bad.type}=false reason:${bad.reason} message:${bad.message}` : undefined };
  } catch (e) {
    return { runtimeReady: false, networkReady: false, message: `container runtime is down: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** status.images: the 50 largest images with their names (tags and digests), as the kubelet reports them. */
async function nodeImages(cri: NodeOptions['cri']): Promise<{ names: string[]; sizeBytes: number }[]> {
  if (!cri.listImages) return [];
  try {
    const images = await cri.listImages();
    return images
      .map((i) => ({ names: [...i.repo_digests, ...i.repo_tags], sizeBytes: Number(i.size) }))
      .filter((i) => i.names.length)
      .sort((a, b) => b.sizeBytes - a.sizeBytes || compareText(a.names[0]!, b.names[0]!))
      .slice(0, 50);
  } catch {
    return [];
  }
}

/** Creates the Node (or merges our labels into an existing one) and writes its first status. */
export async function registerNode(o: NodeOptions): Promise<KubeObject> {
  const clock = o.clock ?? realClock;
  const facts = (o.facts ?? (() => machineFacts(o.dataDir)))();
  const id: NodeIdentity = { ...o, containerRuntimeVersion: await runtimeVersion(o.cri) };
  let node: KubeObject;
  try {
    const fresh = newNode(id, facts);
    fresh.metadata.annotations = { ...fresh.metadata.annotations, [STORAGE_DIR_ANNOTATION]: storageDirOf(o.dataDir) };
    node = await o.client.create(core('nodes'), fresh);
    log.info('node registered', { node: o.nodeName });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    node = await o.client.patch(core('nodes'), o.nodeName, 'merge', { metadata: { labels: nodeLabels(id, facts), annotations: { [STORAGE_DIR_ANNOTATION]: storageDirOf(o.dataDir) } } });
    log.info('node already registered; labels updated', { node: o.nodeName });
  }
  const status = { ...nodeStatus(id, facts, await health(o.cri), clock.now(), node.status, o.pressure?.(), o.evictionReserve), images: await nodeImages(o.cri) };
  return o.client.patch(core('nodes'), o.nodeName, 'merge', { status }, { subresource: 'status' });
}

const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');

/** Creates or renews the node's Lease in kube-node-lease. */
export async function renewLease(client: Client, nodeName: string, nodeUid: string | undefined, now: number, durationSeconds = 40): Promise<void> {
  const ref = coordination('leases');
  try {
    const lease = await client.get(ref, nodeName, 'kube-node-lease');
    lease.spec = { ...lease.spec, holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) };
    await client.update(ref, lease);
  } catch (e) {
    if (isNotFound(e)) {
      await client.create(ref, {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
        metadata: { name: nodeName, namespace: 'kube-node-lease', ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] } : {}) },
        spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) },
      }, 'kube-node-lease').catch((err) => { if (!isAlreadyExists(err)) throw err; });
    } else if (!isConflict(e)) {
      throw e;
    }
  }
}

/** Registers the node, then keeps the lease and the status fresh until the signal aborts. */
export function startNode(o: NodeOptions): { ready: Promise<KubeObject> } {
  const clock = o.clock ?? realClock;
  const ready = (async () => {
    let node: KubeObject | undefined;
    for (let i = 0; !node; i++) {
      try {
        node = await registerNode(o);
      } catch (e) {
        if (o.signal.aborted) throw e;
        log.warn('registering node failed; retrying', { err: String(e) });
        await clock.sleep(Math.min(1000 * 2 ** i, 10_000), o.signal);
      }
    }
    return node;
  })();
  const recorder = o.recorder ?? new ClientEventRecorder({ client: o.client, component: 'kubelet', host: o.nodeName, clock });
  ready.then((node) => {
    recorder.event({ ...node, apiVersion: 'v1', kind: 'Node' }, 'Normal', 'Starting', 'Starting kubelet.');
    recordConditions(o, recorder, node, undefined);
    void leaseLoop(o, clock, node.metadata.uid);
    void statusLoop(o, clock, node, recorder);
  }, () => {});
  return { ready };
}

async function leaseLoop(o: NodeOptions, clock: Clock, uid: string | undefined): Promise<void> {
  while (!o.signal.aborted) {
    try {
      await renewLease(o.client, o.nodeName, uid, clock.now());
    } catch (e) {
      log.warn('renewing node lease failed', { err: String(e) });
    }
    await clock.sleep(o.leaseMs ?? 10_000, o.signal);
  }
}

async function statusLoop(o: NodeOptions, clock: Clock, node: KubeObject, recorder: EventRecorder): Promise<void> {
  let last = node.status;
  let lastWrite = clock.now();
  const id: NodeIdentity = { ...o, containerRuntimeVersion: await runtimeVersion(o.cri) };
  while (!o.signal.aborted) {
    // Check every second while not Ready (Ready shows up quickly once the pod network is configured).
    const ready = (last?.conditions as { type: string; status: string }[] | undefined)?.find((c) => c.type === 'Ready')?.status === 'True';
    const sleep = clock.sleep(ready ? (o.statusCheckMs ?? 10_000) : Math.min(1000, o.statusCheckMs ?? 1000), o.signal);
    await (o.statusNudge ? Promise.race([sleep, o.statusNudge()]) : sleep);
    if (o.signal.aborted) break;
    try {
      const facts = (o.facts ?? (() => machineFacts(o.dataDir)))();
      const status = { ...nodeStatus(id, facts, await health(o.cri), clock.now(), last, o.pressure?.(), o.evictionReserve), images: await nodeImages(o.cri) };
      if (!statusChanged(last, status) && clock.now() - lastWrite < (o.statusForceMs ?? 300_000)) continue;
      const n = await o.client.patch(core('nodes'), o.nodeName, 'merge', { status }, { subresource: 'status' });
      recordConditions(o, recorder, n, last?.conditions);
      last = n.status;
      lastWrite = clock.now();
      log.debug('node status written', () => ({ node: o.nodeName }));
    } catch (e) {
      if (isNotFound(e)) {
        log.warn('node object is gone; registering again', { node: o.nodeName });
        await registerNode(o).then((n) => { last = n.status; lastWrite = clock.now(); }, (err) => log.warn('registering node failed', { err: String(err) }));
      } else {
        log.warn('updating node status failed', { err: String(e) });
      }
    }
  }
}
