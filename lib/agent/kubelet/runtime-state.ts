// What the runtime holds for each pod, gathered by one relist of the CRI (ListPodSandbox + ListContainers), with
// ContainerStatus / PodSandboxStatus fetched only for objects that are new or changed state (exited containers and
// ready sandboxes do not change, so a quiet node makes two list calls a second). relistPod does the same for one
// pod's objects (label-filtered lists): a pod worker's fresh view after it changed its pod, without queueing behind a
// node-wide relist that fetches the status of every other new container first.
import type { Container, ContainerState, CriRuntime, PodSandbox, PodSandboxState } from '../cri/types.ts';
import { A_HASH, A_KIND, L_CONTAINER_NAME, L_MANAGED, L_POD_UID, type ContainerKind } from './labels.ts';

export interface RuntimeSandbox {
  id: string;
  state: PodSandboxState;
  attempt: number;
  createdAt: number;
  ip?: string;
}

export interface RuntimeContainer {
  id: string;
  sandboxId: string;
  name: string;
  kind: ContainerKind;
  attempt: number;
  state: ContainerState;
  hash: string;
  image: string;
  imageRef: string;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  logPath: string;
}

/** Newest first in both lists. */
export interface PodRuntimeState {
  sandboxes: RuntimeSandbox[];
  containers: RuntimeContainer[];
}

export const emptyState = (): PodRuntimeState => ({ sandboxes: [], containers: [] });

const ms = (nanos: string | undefined): number => (nanos && nanos !== '0' ? Number(BigInt(nanos) / 1_000_000n) : 0);

export class RuntimeCache {
  #cri: CriRuntime;
  #containers = new Map<string, RuntimeContainer>();
  #sandboxes = new Map<string, RuntimeSandbox>();

  constructor(cri: CriRuntime) { this.#cri = cri; }

  /** One relist: returns pod uid → state for every tsk-managed sandbox. */
  async relist(): Promise<Map<string, PodRuntimeState>> {
    const [sandboxes, containers] = await Promise.all([
      this.#cri.listPodSandbox({ label_selector: { [L_MANAGED]: 'true' } }),
      this.#cri.listContainers({ label_selector: { [L_MANAGED]: 'true' } }),
    ]);
    const out = await this.#gather(sandboxes, containers);
    const seenSb = new Set(sandboxes.map((s) => s.id));
    const seenC = new Set(containers.map((c) => c.id));
    for (const id of this.#containers.keys()) if (!seenC.has(id)) this.#containers.delete(id);
    for (const id of this.#sandboxes.keys()) if (!seenSb.has(id)) this.#sandboxes.delete(id);
    return out;
  }

  /** The runtime state of one pod (its sandboxes and containers, by the pod-uid label). */
  async relistPod(uid: string): Promise<PodRuntimeState> {
    const selector = { label_selector: { [L_MANAGED]: 'true', [L_POD_UID]: uid } };
    const [sandboxes, containers] = await Promise.all([this.#cri.listPodSandbox(selector), this.#cri.listContainers(selector)]);
    return (await this.#gather(sandboxes, containers)).get(uid) ?? emptyState();
  }

  async #gather(sandboxes: PodSandbox[], containers: Container[]): Promise<Map<string, PodRuntimeState>> {
    const out = new Map<string, PodRuntimeState>();
    const uidOfSandbox = new Map<string, string>();
    for (const s of sandboxes) {
      const uid = s.labels[L_POD_UID] ?? s.metadata.uid;
      uidOfSandbox.set(s.id, uid);
      let cached = this.#sandboxes.get(s.id);
      if (!cached || cached.state !== s.state) {
        const st = s.state === 'SANDBOX_READY' ? await this.#cri.podSandboxStatus(s.id) : undefined;
        cached = { id: s.id, state: s.state, attempt: s.metadata.attempt ?? 0, createdAt: ms(s.created_at), ip: st?.network?.ip || undefined };
        this.#sandboxes.set(s.id, cached);
      }
      const entry = out.get(uid) ?? emptyState();
      entry.sandboxes.push(cached);
      out.set(uid, entry);
    }
    for (const c of containers) {
      const uid = uidOfSandbox.get(c.pod_sandbox_id) ?? c.labels[L_POD_UID];
      if (!uid) continue;
      let cached = this.#containers.get(c.id);
      if (!cached || cached.state !== c.state) {
        const st = await this.#cri.containerStatus(c.id);
        if (!st) continue;
        cached = {
          id: c.id, sandboxId: c.pod_sandbox_id, name: c.labels[L_CONTAINER_NAME] ?? c.metadata.name, kind: (c.annotations[A_KIND] as ContainerKind) ?? 'regular',
          attempt: c.metadata.attempt ?? 0, state: st.state, hash: c.annotations[A_HASH] ?? '', image: st.image?.image ?? '', imageRef: st.image_ref,
          createdAt: ms(st.created_at), startedAt: ms(st.started_at), finishedAt: ms(st.finished_at), exitCode: st.exit_code, reason: st.reason,
          message: st.message, logPath: st.log_path,
        };
        this.#containers.set(c.id, cached);
      }
      const entry = out.get(uid) ?? emptyState();
      entry.containers.push(cached);
      out.set(uid, entry);
    }
    for (const st of out.values()) {
      st.sandboxes.sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
      st.containers.sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
    }
    return out;
  }

  /** Forgets cached details so the next relist asks again (after the kubelet changed something). */
  invalidate(id: string): void {
    this.#containers.delete(id);
    this.#sandboxes.delete(id);
  }
}
