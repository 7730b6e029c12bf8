// An in-memory CriRuntime for kubelet unit tests: sandboxes and containers change state only when the kubelet
// calls in or the test says so (exit, fail next call, set an exec result). Every call is recorded.
import {
  CriError, type AuthConfig, type Container, type ContainerConfig, type ContainerFilter, type ContainerStats,
  type ContainerStatus, type CriRuntime, type ExecSyncResult, type FilesystemUsage, type Image, type PodSandbox,
  type PodSandboxConfig, type PodSandboxFilter, type PodSandboxStatus, type RuntimeCondition, type VersionInfo,
} from './types.ts';

interface FakeSandbox { status: PodSandboxStatus; config: PodSandboxConfig }
interface FakeContainer { status: ContainerStatus; sandboxId: string; config: ContainerConfig }

export interface FakeCall { method: string; args: unknown[] }

const nanos = (ms: number) => `${BigInt(ms) * 1_000_000n}`;

export class FakeCri implements CriRuntime {
  readonly calls: FakeCall[] = [];
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Map<string, Image>();
  /** Registry contents that pullImage can fetch. */
  readonly pullable = new Set<string>();
  /** Answers ExecSync; default: exit 0. */
  execResult: (id: string, cmd: string[]) => ExecSyncResult = () => ({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exit_code: 0 });
  #failures = new Map<string, Error>();
  #seq = 0;
  #ip = 1;
  now: () => number = () => Date.now();
  /** The NetworkReady condition (false until a CNI config exists on a real node). */
  networkReady = true;

  constructor(images: string[] = []) {
    for (const i of images) this.addImage(i);
  }

  addImage(ref: string): void {
    this.images.set(ref, { id: `sha256:${ref.length.toString(16).padStart(64, '0')}${this.images.size}`, repo_tags: [ref], repo_digests: [], size: '1000', uid: null, username: '', pinned: false });
  }

  /** The next call of method throws err. */
  failNext(method: string, err: Error = new CriError(method, 2, 'injected failure')): void { this.#failures.set(method, err); }

  /** Simulates a container process ending. */
  exitContainer(id: string, exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error'): void {
    const c = this.containers.get(id);
    if (!c) throw new Error(`no container ${id}`);
    c.status = { ...c.status, state: 'CONTAINER_EXITED', exit_code: exitCode, reason, finished_at: nanos(this.now()) };
  }

  /** Containers (any state) whose metadata name is name. */
  byName(name: string): FakeContainer[] { return [...this.containers.values()].filter((c) => c.status.metadata.name === name); }

  #record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const f = this.#failures.get(method);
    if (f) {
      this.#failures.delete(method);
      throw f;
    }
  }

  #notFound(method: string, id: string): CriError { return new CriError(method, 5, `${id} not found`); }

  async version(): Promise<VersionInfo> { return { version: '0.1.0', runtime_name: 'fake', runtime_version: '1.0.0', runtime_api_version: 'v1' }; }
  async status(): Promise<{ conditions: RuntimeCondition[] }> {
    return { conditions: [{ type: 'RuntimeReady', status: true, reason: '', message: '' }, { type: 'NetworkReady', status: this.networkReady, reason: this.networkReady ? '' : 'NetworkPluginNotReady', message: this.networkReady ? '' : 'cni plugin not initialized' }] };
  }

  /** Runtime handlers a sandbox may ask for, as containerd's configured runtimes ('' = the default). */
  readonly handlers = new Set(['', 'runc']);

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    this.#record('runPodSandbox', config, ...(runtimeHandler ? [runtimeHandler] : []));
    if (!this.handlers.has(runtimeHandler)) throw new CriError('RunPodSandbox', 2, `failed to get sandbox runtime: no runtime for ${JSON.stringify(runtimeHandler)} is configured`);
    const id = `sb-${++this.#seq}`;
    this.sandboxes.set(id, {
      config,
      status: {
        id, metadata: { attempt: 0, ...config.metadata }, state: 'SANDBOX_READY', created_at: nanos(this.now()),
        network: { ip: `10.42.0.${++this.#ip}`, additional_ips: [] }, labels: config.labels ?? {}, annotations: config.annotations ?? {},
      },
    });
    return id;
  }
  async stopPodSandbox(id: string): Promise<void> {
    this.#record('stopPodSandbox', id);
    const s = this.sandboxes.get(id);
    if (!s) return;
    s.status.state = 'SANDBOX_NOTREADY';
    for (const c of this.containers.values()) {
      if (c.sandboxId === id && c.status.state === 'CONTAINER_RUNNING') this.exitContainer(c.status.id, 137, 'Error');
    }
  }
  async removePodSandbox(id: string): Promise<void> {
    this.#record('removePodSandbox', id);
    this.sandboxes.delete(id);
    for (const [cid, c] of this.containers) if (c.sandboxId === id) this.containers.delete(cid);
  }
  async podSandboxStatus(id: string): Promise<PodSandboxStatus | undefined> {
    const s = this.sandboxes.get(id);
    return s ? structuredClone(s.status) : undefined;
  }
  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    return [...this.sandboxes.values()]
      .filter((s) => (!filter?.id || s.status.id === filter.id) && (!filter?.state || s.status.state === filter.state.state))
      .filter((s) => Object.entries(filter?.label_selector ?? {}).every(([k, v]) => s.status.labels[k] === v))
      .map(({ status: { network: _n, ...rest } }) => structuredClone(rest));
  }

  async createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    this.#record('createContainer', sandboxId, config, sandboxConfig);
    if (!this.sandboxes.has(sandboxId)) throw this.#notFound('createContainer', sandboxId);
    if (!this.images.has(config.image.image)) throw new CriError('createContainer', 2, `image "${config.image.image}" not found`);
    const id = `c-${++this.#seq}`;
    this.containers.set(id, {
      sandboxId, config,
      status: {
        id, metadata: { attempt: 0, ...config.metadata }, state: 'CONTAINER_CREATED', created_at: nanos(this.now()), started_at: '0', finished_at: '0',
        exit_code: 0, image: config.image, image_ref: this.images.get(config.image.image)!.id, reason: '', message: '',
        labels: config.labels ?? {}, annotations: config.annotations ?? {}, log_path: `${sandboxConfig.log_directory ?? ''}/${config.log_path ?? ''}`,
      },
    });
    return id;
  }
  async startContainer(id: string): Promise<void> {
    this.#record('startContainer', id);
    const c = this.containers.get(id);
    if (!c) throw this.#notFound('startContainer', id);
    c.status.state = 'CONTAINER_RUNNING';
    c.status.started_at = nanos(this.now());
  }
  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.#record('stopContainer', id, timeoutSeconds);
    const c = this.containers.get(id);
    if (c && c.status.state === 'CONTAINER_RUNNING') this.exitContainer(id, 143, 'Error');
  }
  async reopenContainerLog(id: string): Promise<void> {
    this.#record('reopenContainerLog', id);
    const c = this.containers.get(id);
    if (!c) throw this.#notFound('ReopenContainerLog', id);
    if (c.status.state !== 'CONTAINER_RUNNING') throw new CriError('ReopenContainerLog', 9, 'container is not running');
  }
  async removeContainer(id: string): Promise<void> {
    this.#record('removeContainer', id);
    this.containers.delete(id);
  }
  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    return [...this.containers.values()]
      .filter((c) => (!filter?.id || c.status.id === filter.id) && (!filter?.pod_sandbox_id || c.sandboxId === filter.pod_sandbox_id))
      .filter((c) => !filter?.state || c.status.state === filter.state.state)
      .filter((c) => Object.entries(filter?.label_selector ?? {}).every(([k, v]) => c.status.labels[k] === v))
      .map((c) => structuredClone({
        id: c.status.id, pod_sandbox_id: c.sandboxId, metadata: c.status.metadata, image: c.status.image, image_ref: c.status.image_ref,
        state: c.status.state, created_at: c.status.created_at, labels: c.status.labels, annotations: c.status.annotations,
      }));
  }
  async containerStatus(id: string): Promise<ContainerStatus | undefined> {
    const c = this.containers.get(id);
    return c ? structuredClone(c.status) : undefined;
  }
  async execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    this.#record('execSync', id, cmd, timeoutSeconds);
    if (this.containers.get(id)?.status.state !== 'CONTAINER_RUNNING') throw new CriError('execSync', 9, 'container is not running');
    return this.execResult(id, cmd);
  }
  async exec(req: { container_id: string; cmd: string[] }): Promise<string> { this.#record('exec', req); return `http://127.0.0.1:1/exec/${req.container_id}`; }
  async attach(req: { container_id: string }): Promise<string> { this.#record('attach', req); return `http://127.0.0.1:1/attach/${req.container_id}`; }
  async portForward(sandboxId: string, ports: number[]): Promise<string> { this.#record('portForward', sandboxId, ports); return `http://127.0.0.1:1/portforward/${sandboxId}`; }
  async containerStats(id: string): Promise<ContainerStats | undefined> {
    const c = this.containers.get(id);
    if (!c) return undefined;
    const ts = nanos(this.now());
    return { attributes: { id, metadata: c.status.metadata, labels: c.status.labels, annotations: c.status.annotations }, cpu: { timestamp: ts, usage_core_nano_seconds: { value: '1000' } }, memory: { timestamp: ts, working_set_bytes: { value: '4096' } } };
  }
  async listContainerStats(): Promise<ContainerStats[]> {
    const out: ContainerStats[] = [];
    for (const id of this.containers.keys()) out.push((await this.containerStats(id))!);
    return out;
  }

  async imageStatus(image: string): Promise<Image | undefined> {
    const i = this.images.get(image);
    return i ? structuredClone(i) : undefined;
  }
  async pullImage(image: string, opts: { auth?: AuthConfig; timeoutMs?: number } = {}): Promise<string> {
    this.#record('pullImage', image, opts.auth, opts.timeoutMs);
    if (!this.pullable.has(image)) throw new CriError('pullImage', 2, `failed to resolve reference "${image}": not found`);
    this.addImage(image);
    return this.images.get(image)!.id;
  }
  async listImages(): Promise<Image[]> { return [...this.images.values()].map((i) => structuredClone(i)); }
  async removeImage(image: string): Promise<void> {
    this.#record('removeImage', image);
    for (const [k, v] of this.images) if (k === image || v.id === image) this.images.delete(k);
  }
  async imageFsInfo(): Promise<FilesystemUsage[]> {
    return [{ timestamp: nanos(this.now()), fs_id: { mountpoint: '/fake' }, used_bytes: { value: String(this.images.size * 1000) }, inodes_used: { value: '1' } }];
  }
  close(): void {}
}
