// The one adapter over @grpc/grpc-js + protobufjs: a CriRuntime that talks CRI v1 to a unix socket.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { CRI_PROTO } from './proto.ts';
import {
  CriError, isCriNotFound, type AuthConfig, type Container, type ContainerConfig, type ContainerFilter, type ContainerStats,
  type ContainerStatus, type CriRuntime, type ExecSyncResult, type FilesystemUsage, type Image, type PodSandbox,
  type PodSandboxConfig, type PodSandboxFilter, type PodSandboxStatus, type RuntimeCondition, type VersionInfo,
} from './types.ts';

type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;
type ServiceClient = grpc.Client & Record<string, Unary>;

// Messages as plain objects, as @grpc/proto-loader would give them with these options. The service definitions are
// built here from protobufjs types directly: proto-loader's descriptor copies cost the agent memory for nothing.
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

function serviceDefinition(root: protobuf.Root, name: string): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const m of root.lookupService(name).methodsArray) {
    m.resolve();
    const req = m.resolvedRequestType!;
    const res = m.resolvedResponseType!;
    def[m.name] = {
      path: `/${name}/${m.name}`, requestStream: !!m.requestStream, responseStream: !!m.responseStream, originalName: m.name,
      requestSerialize: (v) => Buffer.from(req.encode(req.fromObject(v as Record<string, unknown>)).finish()),
      requestDeserialize: (b) => req.toObject(req.decode(b), TO_OBJECT),
      responseSerialize: (v) => Buffer.from(res.encode(res.fromObject(v as Record<string, unknown>)).finish()),
      responseDeserialize: (b) => res.toObject(res.decode(b), TO_OBJECT),
    };
  }
  return def;
}

let cachedDefinition: { RuntimeService: typeof grpc.Client; ImageService: typeof grpc.Client } | undefined;
function definition(): { RuntimeService: typeof grpc.Client; ImageService: typeof grpc.Client } {
  if (cachedDefinition) return cachedDefinition;
  const root = protobuf.parse(CRI_PROTO, { keepCase: true }).root;
  cachedDefinition = {
    RuntimeService: grpc.makeGenericClientConstructor(serviceDefinition(root, 'runtime.v1.RuntimeService'), 'RuntimeService'),
    ImageService: grpc.makeGenericClientConstructor(serviceDefinition(root, 'runtime.v1.ImageService'), 'ImageService'),
  };
  return cachedDefinition;
}

export interface GrpcCriOptions {
  /** unix:///path/to/containerd.sock or a bare path. */
  endpoint: string;
  /** Per-call deadline in ms (default 2 min; pulls and stops pass their own). */
  timeoutMs?: number;
  /** The handler for a sandbox with port mappings, given the one asked for (tsk's containerd: the twin whose CNI chain has portmap). */
  hostPortHandler?: (handler: string) => string;
}

function target(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return `unix:${endpoint.slice('unix://'.length)}`;
  if (endpoint.startsWith('unix:')) return endpoint;
  return `unix:${endpoint}`;
}

export class GrpcCri implements CriRuntime {
  #rt: ServiceClient;
  #img: ServiceClient;
  #timeoutMs: number;
  #hostPortHandler: (handler: string) => string;

  constructor(opts: GrpcCriOptions) {
    const def = definition();
    const addr = target(opts.endpoint);
    const chanOpts = { 'grpc.max_receive_message_length': 32 * 1024 * 1024 };
    this.#rt = new def.RuntimeService(addr, grpc.credentials.createInsecure(), chanOpts) as ServiceClient;
    this.#img = new def.ImageService(addr, grpc.credentials.createInsecure(), chanOpts) as ServiceClient;
    this.#timeoutMs = opts.timeoutMs ?? 120_000;
    this.#hostPortHandler = opts.hostPortHandler ?? ((h) => h);
  }

  #call<T>(svc: ServiceClient, method: string, req: unknown, timeoutMs = this.#timeoutMs): Promise<T> {
    return new Promise((resolve, reject) => {
      svc[method]!.call(svc, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new CriError(method, err.code, err.details || err.message));
        else resolve(res as T);
      });
    });
  }

  #rtc<T>(method: string, req: unknown, timeoutMs?: number): Promise<T> { return this.#call<T>(this.#rt, method, req, timeoutMs); }
  #imc<T>(method: string, req: unknown, timeoutMs?: number): Promise<T> { return this.#call<T>(this.#img, method, req, timeoutMs); }

  async version(): Promise<VersionInfo> { return this.#rtc('Version', { version: 'v1' }, 10_000); }
  async status(): Promise<{ conditions: RuntimeCondition[] }> {
    const r = await this.#rtc<{ status?: { conditions: RuntimeCondition[] } }>('Status', {}, 10_000);
    return { conditions: r.status?.conditions ?? [] };
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const handler = config.port_mappings?.length ? this.#hostPortHandler(runtimeHandler) : runtimeHandler;
    const r = await this.#rtc<{ pod_sandbox_id: string }>('RunPodSandbox', { config, runtime_handler: handler });
    return r.pod_sandbox_id;
  }
  async stopPodSandbox(id: string): Promise<void> { await this.#rtc('StopPodSandbox', { pod_sandbox_id: id }); }
  async removePodSandbox(id: string): Promise<void> { await this.#rtc('RemovePodSandbox', { pod_sandbox_id: id }); }
  async podSandboxStatus(id: string): Promise<PodSandboxStatus | undefined> {
    try {
      const r = await this.#rtc<{ status: PodSandboxStatus }>('PodSandboxStatus', { pod_sandbox_id: id });
      return r.status;
    } catch (e) {
      if (isCriNotFound(e)) return undefined;
      throw e;
    }
  }
  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    const r = await this.#rtc<{ items: PodSandbox[] }>('ListPodSandbox', { filter: filter ?? null });
    return r.items;
  }

  async createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const envs = config.envs?.map((e) => ({ key: e.key, value: Buffer.from(e.value, 'utf8') }));
    const r = await this.#rtc<{ container_id: string }>('CreateContainer', { pod_sandbox_id: sandboxId, config: { ...config, envs }, sandbox_config: sandboxConfig });
    return r.container_id;
  }
  async startContainer(id: string): Promise<void> { await this.#rtc('StartContainer', { container_id: id }); }
  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.#rtc('StopContainer', { container_id: id, timeout: timeoutSeconds }, (timeoutSeconds + 30) * 1000);
  }
  async removeContainer(id: string): Promise<void> { await this.#rtc('RemoveContainer', { container_id: id }); }
  async reopenContainerLog(id: string): Promise<void> { await this.#rtc('ReopenContainerLog', { container_id: id }); }
  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    const r = await this.#rtc<{ containers: Container[] }>('ListContainers', { filter: filter ?? null });
    return r.containers;
  }
  async containerStatus(id: string): Promise<ContainerStatus | undefined> {
    try {
      const r = await this.#rtc<{ status: ContainerStatus }>('ContainerStatus', { container_id: id });
      return r.status;
    } catch (e) {
      if (isCriNotFound(e)) return undefined;
      throw e;
    }
  }
  async execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    return this.#rtc('ExecSync', { container_id: id, cmd, timeout: timeoutSeconds }, (timeoutSeconds + 10) * 1000);
  }
  async exec(req: { container_id: string; cmd: string[]; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }): Promise<string> {
    return (await this.#rtc<{ url: string }>('Exec', req)).url;
  }
  async attach(req: { container_id: string; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }): Promise<string> {
    return (await this.#rtc<{ url: string }>('Attach', req)).url;
  }
  async portForward(sandboxId: string, ports: number[]): Promise<string> {
    return (await this.#rtc<{ url: string }>('PortForward', { pod_sandbox_id: sandboxId, port: ports })).url;
  }
  async containerStats(id: string): Promise<ContainerStats | undefined> {
    try {
      return (await this.#rtc<{ stats: ContainerStats }>('ContainerStats', { container_id: id })).stats;
    } catch (e) {
      if (isCriNotFound(e)) return undefined;
      throw e;
    }
  }
  async listContainerStats(filter?: { id?: string; pod_sandbox_id?: string; label_selector?: Record<string, string> }): Promise<ContainerStats[]> {
    return (await this.#rtc<{ stats: ContainerStats[] }>('ListContainerStats', { filter: filter ?? null })).stats;
  }

  async imageStatus(image: string): Promise<Image | undefined> {
    const r = await this.#imc<{ image: Image | null }>('ImageStatus', { image: { image } });
    return r.image ?? undefined;
  }
  async pullImage(image: string, opts: { auth?: AuthConfig; sandboxConfig?: PodSandboxConfig; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.#imc<{ image_ref: string }>('PullImage', { image: { image }, auth: opts.auth ?? null, sandbox_config: opts.sandboxConfig ?? null }, opts.timeoutMs ?? 15 * 60_000);
    return r.image_ref;
  }
  async listImages(): Promise<Image[]> { return (await this.#imc<{ images: Image[] }>('ListImages', {})).images; }
  async removeImage(image: string): Promise<void> { await this.#imc('RemoveImage', { image: { image } }); }
  async imageFsInfo(): Promise<FilesystemUsage[]> {
    return (await this.#imc<{ image_filesystems: FilesystemUsage[] }>('ImageFsInfo', {})).image_filesystems;
  }

  close(): void {
    this.#rt.close();
    this.#img.close();
  }
}

// The gRPC health-checking protocol (grpc.health.v1), for the kubelet's gRPC probes.
const HEALTH_PROTO = `
syntax = "proto3";
package grpc.health.v1;
service Health { rpc Check(HealthCheckRequest) returns (HealthCheckResponse) {} }
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}`;

let healthDefinition: grpc.ServiceDefinition | undefined;
/** grpc.health.v1.Health as a service definition (the probe's client; tests serve it). */
export function healthService(): grpc.ServiceDefinition {
  healthDefinition ??= serviceDefinition(protobuf.parse(HEALTH_PROTO, { keepCase: true }).root, 'grpc.health.v1.Health');
  return healthDefinition;
}

/** One Health/Check call over plaintext HTTP/2 to host:port; resolves the serving status (SERVING, NOT_SERVING...). */
export async function grpcHealthCheck(address: string, service: string, timeoutMs: number): Promise<string> {
  const Health = grpc.makeGenericClientConstructor(healthService(), 'Health');
  const client = new Health(address, grpc.credentials.createInsecure()) as ServiceClient;
  try {
    return await new Promise<string>((resolve, reject) => {
      client.Check!({ service }, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(err);
        else resolve(String((res as { status?: string }).status ?? 'UNKNOWN'));
      });
    });
  } finally {
    client.close();
  }
}
