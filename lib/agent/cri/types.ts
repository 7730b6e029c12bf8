// The CriRuntime seam: the CRI v1 calls the kubelet makes, with message shapes as the protobuf defines them
// (snake_case fields, enums as strings, int64 as decimal strings on output). Implementations: grpc.ts (containerd)
// and fake.ts (unit tests).

/** int64 fields accept numbers on input; outputs come back as decimal strings (nanosecond timestamps exceed 2^53). */
export type Int64 = number | string;

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface DNSConfig { servers?: string[]; searches?: string[]; options?: string[] }
export interface PortMapping { protocol?: Protocol; container_port: number; host_port?: number; host_ip?: string }
export interface Mount {
  container_path: string;
  host_path: string;
  readonly?: boolean;
  selinux_relabel?: boolean;
  propagation?: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
}
export interface NamespaceOption { network?: NamespaceMode; pid?: NamespaceMode; ipc?: NamespaceMode; target_id?: string }
export interface Int64Value { value: Int64 }

export interface PodSandboxMetadata { name: string; uid: string; namespace: string; attempt?: number }

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  log_directory?: string;
  dns_config?: DNSConfig;
  port_mappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroup_parent?: string;
    security_context?: {
      namespace_options?: NamespaceOption;
      run_as_user?: Int64Value;
      run_as_group?: Int64Value;
      readonly_rootfs?: boolean;
      supplemental_groups?: Int64[];
      privileged?: boolean;
      seccomp?: SecurityProfile;
    };
    sysctls?: Record<string, string>;
  };
}

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  created_at: string;
  network?: { ip: string; additional_ips?: { ip: string }[] } | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  created_at: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSandboxFilter { id?: string; state?: { state: PodSandboxState }; label_selector?: Record<string, string> }

export interface ImageSpec { image: string; annotations?: Record<string, string> }
export interface KeyValue { key: string; value: string }

export interface LinuxContainerResources {
  cpu_period?: Int64;
  cpu_quota?: Int64;
  cpu_shares?: Int64;
  memory_limit_in_bytes?: Int64;
  oom_score_adj?: Int64;
  cpuset_cpus?: string;
  cpuset_mems?: string;
}

export interface LinuxContainerSecurityContext {
  capabilities?: { add_capabilities?: string[]; drop_capabilities?: string[] };
  privileged?: boolean;
  namespace_options?: NamespaceOption;
  run_as_user?: Int64Value;
  run_as_group?: Int64Value;
  run_as_username?: string;
  readonly_rootfs?: boolean;
  supplemental_groups?: Int64[];
  no_new_privs?: boolean;
  masked_paths?: string[];
  readonly_paths?: string[];
  seccomp?: SecurityProfile;
}

/** A seccomp profile: the runtime's default filter, none, or a file on the node (localhost_ref, an absolute path). */
export interface SecurityProfile { profile_type: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhost_ref?: string }

export interface ContainerMetadata { name: string; attempt?: number }

export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  command?: string[];
  args?: string[];
  working_dir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Relative to the sandbox's log_directory. */
  log_path?: string;
  stdin?: boolean;
  stdin_once?: boolean;
  tty?: boolean;
  linux?: { resources?: LinuxContainerResources; security_context?: LinuxContainerSecurityContext };
}

export interface Container {
  id: string;
  pod_sandbox_id: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  image_ref: string;
  state: ContainerState;
  created_at: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerFilter {
  id?: string;
  state?: { state: ContainerState };
  pod_sandbox_id?: string;
  label_selector?: Record<string, string>;
}

export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  created_at: string;
  started_at: string;
  finished_at: string;
  exit_code: number;
  image: ImageSpec;
  image_ref: string;
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  log_path: string;
}

export interface ExecSyncResult { stdout: Buffer; stderr: Buffer; exit_code: number }

export interface UInt64Value { value: string }
export interface ContainerStats {
  attributes: { id: string; metadata: ContainerMetadata; labels: Record<string, string>; annotations: Record<string, string> };
  cpu?: { timestamp: string; usage_core_nano_seconds?: UInt64Value | null; usage_nano_cores?: UInt64Value | null } | null;
  memory?: { timestamp: string; working_set_bytes?: UInt64Value | null; usage_bytes?: UInt64Value | null; rss_bytes?: UInt64Value | null; available_bytes?: UInt64Value | null } | null;
  writable_layer?: FilesystemUsage | null;
}

export interface FilesystemUsage {
  timestamp: string;
  fs_id?: { mountpoint: string } | null;
  used_bytes?: UInt64Value | null;
  inodes_used?: UInt64Value | null;
}

export interface Image {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: string;
  uid?: Int64Value | null;
  username: string;
  pinned: boolean;
}

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  server_address?: string;
  identity_token?: string;
  registry_token?: string;
}

export interface VersionInfo { version: string; runtime_name: string; runtime_version: string; runtime_api_version: string }
export interface RuntimeCondition { type: string; status: boolean; reason: string; message: string }

export interface CriRuntime {
  version(): Promise<VersionInfo>;
  status(): Promise<{ conditions: RuntimeCondition[] }>;

  runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string): Promise<string>;
  stopPodSandbox(id: string): Promise<void>;
  removePodSandbox(id: string): Promise<void>;
  /** Undefined when the sandbox does not exist. */
  podSandboxStatus(id: string): Promise<PodSandboxStatus | undefined>;
  listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]>;

  createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** timeoutSeconds: grace before SIGKILL. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /** The runtime reopens the container's log path (after the kubelet renamed the file to rotate it). */
  reopenContainerLog(id: string): Promise<void>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;
  /** Undefined when the container does not exist. */
  containerStatus(id: string): Promise<ContainerStatus | undefined>;
  execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult>;
  exec(req: { container_id: string; cmd: string[]; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }): Promise<string>;
  attach(req: { container_id: string; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }): Promise<string>;
  portForward(sandboxId: string, ports: number[]): Promise<string>;
  containerStats(id: string): Promise<ContainerStats | undefined>;
  listContainerStats(filter?: { id?: string; pod_sandbox_id?: string; label_selector?: Record<string, string> }): Promise<ContainerStats[]>;

  imageStatus(image: string): Promise<Image | undefined>;
  /** timeoutMs: deadline of the pull (default 15 min). */
  pullImage(image: string, opts?: { auth?: AuthConfig; sandboxConfig?: PodSandboxConfig; timeoutMs?: number }): Promise<string>;
  listImages(): Promise<Image[]>;
  removeImage(image: string): Promise<void>;
  imageFsInfo(): Promise<FilesystemUsage[]>;

  close(): void;
}

/** A CRI call failed with a gRPC status code (5 NOT_FOUND, 12 UNIMPLEMENTED, 14 UNAVAILABLE, ...). */
const GRPC_CODES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

/** A failed CRI call, worded as gRPC's status error (what the kubelet shows in pod status and events). */
export class CriError extends Error {
  readonly code: number;
  readonly method: string;
  constructor(method: string, code: number, details: string) {
    super(`rpc error: code = ${GRPC_CODES[code] ?? `Code(${code})`} desc = ${details}`);
    this.code = code;
    this.method = method;
  }
}

export const isCriNotFound = (e: unknown): boolean => e instanceof CriError && (e.code === 5 || /not found|does not exist/i.test(e.message));
