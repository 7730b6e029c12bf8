// Test fixture for controllers over the real registry (memory store, in-process client), shared by manager.test.ts,
// statefulset.test.ts and test/storage-controllers.test.ts: the registry with its bootstrap objects and Ready nodes,
// the controller manager stopped on teardown, a stand-in kubelet loop, and polling helpers (until: job.test.ts too).
import { core, type Client, type KubeObject } from '../client/types.ts';
import { MemoryStore } from '../store/memory.ts';
import { createRegistry } from '../server/registry/index.ts';
import { bootstrapObjects } from '../server/registry/bootstrap.ts';
import { controllers, startControllers, type ControllerManager, type StartControllersOptions } from './manager.ts';

/** A timestamp in the API's second precision. */
export const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export interface FixtureNode {
  name: string;
  annotations?: Record<string, string>;
  /** Sets the Ready condition's lastHeartbeatTime to now. */
  heartbeat?: boolean;
}

/** A memory store and the registry over it with the bootstrap objects and a Ready node (4 CPU, 8Gi, 110 pods) for each of nodes. */
export async function registryWithNodes(...nodes: FixtureNode[]): Promise<{ store: MemoryStore; client: Client }> {
  const store = new MemoryStore();
  const { client } = createRegistry({ store, bookmarkIntervalMs: 1000 });
  await bootstrapObjects(client, { serviceCidr: '10.43.0.0/16' });
  for (const n of nodes) {
    await client.create(core('nodes'), {
      apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name }, ...(n.annotations ? { annotations: n.annotations } : {}) },
      status: {
        allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True', ...(n.heartbeat ? { lastHeartbeatTime: stamp(Date.now()) } : {}) }],
      },
    });
  }
  return { store, client };
}

export type ManagerOptions = Partial<Omit<StartControllersOptions, 'client' | 'signal' | 'leaderElection'>> & {
  /** Runs only these of the built-in controllers. */
  only?: string[];
};

/**
 * Starts the controller manager as candidate 'server-1' (not awaited: see m.ready); on teardown stops it and closes
 * the store. signal is aborted on teardown too, for the test's own loops (a stand-in kubelet).
 */
export function startManager(t: { teardown(fn: () => unknown): void }, store: MemoryStore, client: Client, o: ManagerOptions = {}): { m: ControllerManager; signal: AbortSignal } {
  const { only, ...rest } = o;
  const ac = new AbortController();
  const m = startControllers({
    client, signal: ac.signal, leaderElection: { identity: 'server-1' }, ...rest,
    ...(only ? { controllers: Object.fromEntries(only.map((n) => [n, controllers[n]!])) } : {}),
  });
  t.teardown(async () => { ac.abort(); await m.stop(); await store.close(); });
  return { m, signal: ac.signal };
}

/**
 * A stand-in kubelet: every 20 ms until signal aborts, lists all pods and calls sync for each; an error (a race with a
 * controller) is ignored until the next pass.
 */
export function standInKubelet(client: Client, signal: AbortSignal, sync: (pod: KubeObject) => Promise<unknown>): void {
  void (async () => {
    while (!signal.aborted) {
      const pods = (await client.list(core('pods'))).items;
      for (const p of pods) {
        try { await sync(p); } catch { /* raced with a controller; next pass */ }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
}

/** Polls fn every 20 ms until it returns a truthy value (returned), or throws after ms. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits up to 20 s for a second in which the store's revision does not move; false when none came. */
export async function untilQuiet(store: MemoryStore): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    const rev = store.currentRevision();
    await new Promise((r) => setTimeout(r, 1000));
    if (store.currentRevision() === rev) return true;
  }
  return false;
}
