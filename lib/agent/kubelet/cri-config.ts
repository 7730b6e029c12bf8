// CRI sandbox and container configs from a pod spec (pure).
import { join } from 'node:path';
import type { ContainerConfig, DNSConfig, LinuxContainerResources, LinuxContainerSecurityContext, Mount, PodSandboxConfig, PortMapping, Protocol, SecurityProfile } from '../cri/types.ts';
import { expand } from './env.ts';
import { A_GRACE, A_HASH, A_KIND, L_CONTAINER_NAME, L_MANAGED, L_POD_NAME, L_POD_NAMESPACE, L_POD_UID, containerHash, type ContainerKind } from './labels.ts';
import type { ContainerSpec, Pod } from './pod-types.ts';
import { quantity } from './quantity.ts';

export function podLogDir(logsRoot: string, pod: Pod): string {
  return join(logsRoot, `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
}

export interface SandboxOptions { logsRoot: string; dns?: DNSConfig; attempt: number; cgroupParent?: string }

export function sandboxConfig(pod: Pod, o: SandboxOptions): PodSandboxConfig {
  const ports: PortMapping[] = [];
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      ports.push({ protocol: (p.protocol ?? 'TCP') as Protocol, container_port: p.containerPort, host_port: p.hostPort, host_ip: p.hostIP ?? '' });
    }
  }
  const hostname = pod.spec.hostNetwork ? undefined : (pod.spec.hostname ?? pod.metadata.name!).slice(0, 63);
  const sc = pod.spec.securityContext;
  const sysctls: Record<string, string> = {};
  for (const s of sc?.sysctls ?? []) sysctls[s.name] = s.value;
  return {
    metadata: { name: pod.metadata.name!, uid: pod.metadata.uid!, namespace: pod.metadata.namespace ?? 'default', attempt: o.attempt },
    hostname,
    log_directory: podLogDir(o.logsRoot, pod),
    dns_config: o.dns,
    port_mappings: ports,
    labels: { ...(pod.metadata.labels ?? {}), [L_POD_NAME]: pod.metadata.name!, [L_POD_NAMESPACE]: pod.metadata.namespace ?? 'default', [L_POD_UID]: pod.metadata.uid!, [L_MANAGED]: 'true' },
    annotations: { ...(pod.metadata.annotations ?? {}) },
    linux: {
      cgroup_parent: o.cgroupParent ?? '',
      security_context: {
        namespace_options: { network: pod.spec.hostNetwork ? 'NODE' : 'POD', ...pidNamespace(pod), ipc: pod.spec.hostIPC ? 'NODE' : 'POD' },
        seccomp: seccompProfile(sc?.seccompProfile),
        ...(sc?.runAsUser !== undefined ? { run_as_user: { value: sc.runAsUser } } : {}),
        ...(sc?.runAsGroup !== undefined ? { run_as_group: { value: sc.runAsGroup } } : {}),
        supplemental_groups: [...(sc?.fsGroup !== undefined ? [sc.fsGroup] : []), ...(sc?.supplementalGroups ?? [])],
        privileged: [...(pod.spec.initContainers ?? []), ...pod.spec.containers].some((c) => c.securityContext?.privileged),
      },
      sysctls,
    },
  };
}

/** cpu shares/quota/period and memory limit, as the kubelet computes them for cgroup v1. */
export function linuxResources(c: ContainerSpec): LinuxContainerResources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const cpuReq = req.cpu ?? lim.cpu;
  const r: LinuxContainerResources = { cpu_shares: cpuReq ? Math.max(2, Math.floor(quantity(cpuReq) * 1024)) : 2, cpu_period: 100_000 };
  if (lim.cpu) r.cpu_quota = Math.max(1000, Math.floor(quantity(lim.cpu) * 100_000));
  if (lim.memory) r.memory_limit_in_bytes = Math.floor(quantity(lim.memory));
  r.oom_score_adj = 0;
  return r;
}

/** Containers' PID namespace: the node's, the pod's (shareProcessNamespace), a target container's (kubectl debug --target) or their own. */
function pidNamespace(pod: Pod, targetId?: string): Pick<NonNullable<LinuxContainerSecurityContext['namespace_options']>, 'pid' | 'target_id'> {
  if (pod.spec.hostPID) return { pid: 'NODE' };
  if (pod.spec.shareProcessNamespace) return { pid: 'POD' };
  return targetId ? { pid: 'TARGET', target_id: targetId } : { pid: 'CONTAINER' };
}

/** /proc and /sys paths the runtime masks and makes read-only unless procMount is Unmasked (the kubelet's lists). */
export const DEFAULT_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Where Localhost seccomp profiles live on a node (the kubelet's default, as in k3s). */
export const SECCOMP_ROOT = '/var/lib/kubelet/seccomp';

type SeccompProfile = { type?: string; localhostProfile?: string } | undefined;

/** The CRI seccomp profile for a pod or container seccompProfile: none given means Unconfined (the kubelet's default). */
export function seccompProfile(p: SeccompProfile): SecurityProfile {
  if (p?.type === 'RuntimeDefault') return { profile_type: 'RuntimeDefault' };
  if (p?.type === 'Localhost') return { profile_type: 'Localhost', localhost_ref: join(SECCOMP_ROOT, p.localhostProfile ?? '') };
  return { profile_type: 'Unconfined' };
}

export function securityContext(pod: Pod, c: ContainerSpec, targetId?: string): LinuxContainerSecurityContext {
  const psc = pod.spec.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const unmasked = sc.procMount === 'Unmasked';
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  return {
    privileged: !!sc.privileged,
    capabilities: { add_capabilities: sc.capabilities?.add ?? [], drop_capabilities: sc.capabilities?.drop ?? [] },
    ...(runAsUser !== undefined ? { run_as_user: { value: runAsUser } } : {}),
    ...(runAsGroup !== undefined ? { run_as_group: { value: runAsGroup } } : {}),
    readonly_rootfs: !!sc.readOnlyRootFilesystem,
    no_new_privs: sc.allowPrivilegeEscalation === false,
    supplemental_groups: [...(psc.fsGroup !== undefined ? [psc.fsGroup] : []), ...(psc.supplementalGroups ?? [])],
    namespace_options: { network: pod.spec.hostNetwork ? 'NODE' : 'POD', ...pidNamespace(pod, targetId), ipc: pod.spec.hostIPC ? 'NODE' : 'POD' },
    masked_paths: unmasked ? [] : DEFAULT_MASKED_PATHS,
    readonly_paths: unmasked ? [] : DEFAULT_READONLY_PATHS,
    seccomp: seccompProfile(sc.seccompProfile ?? psc.seccompProfile),
  };
}

export interface ContainerOptions {
  kind: ContainerKind; attempt: number; env: { key: string; value: string }[]; mounts: Mount[]; image: string;
  /** An ephemeral container's target: the running container whose PID namespace it joins. */
  targetId?: string;
}

export function containerConfig(pod: Pod, c: ContainerSpec, o: ContainerOptions): ContainerConfig {
  const vars = new Map(o.env.map((e) => [e.key, e.value]));
  return {
    metadata: { name: c.name, attempt: o.attempt },
    image: { image: o.image },
    command: (c.command ?? []).map((s) => expand(s, vars)),
    args: (c.args ?? []).map((s) => expand(s, vars)),
    working_dir: c.workingDir ?? '',
    envs: o.env,
    mounts: o.mounts,
    labels: { [L_POD_NAME]: pod.metadata.name!, [L_POD_NAMESPACE]: pod.metadata.namespace ?? 'default', [L_POD_UID]: pod.metadata.uid!, [L_CONTAINER_NAME]: c.name, [L_MANAGED]: 'true' },
    annotations: { [A_HASH]: containerHash(c), [A_KIND]: o.kind, [A_GRACE]: String(pod.spec.terminationGracePeriodSeconds ?? 30), 'io.kubernetes.container.restartCount': String(o.attempt) },
    log_path: `${c.name}/${o.attempt}.log`,
    stdin: !!c.stdin,
    stdin_once: !!c.stdinOnce,
    tty: !!c.tty,
    linux: { resources: linuxResources(c), security_context: securityContext(pod, c, o.targetId) },
  };
}

/** The pod's /etc/hosts (kubelet-managed): localhost entries, the pod's own name on its IP, then hostAliases. */
export function etcHosts(pod: Pod, podIP: string | undefined, clusterDomain: string): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  const hostname = (pod.spec.hostname ?? pod.metadata.name!).slice(0, 63);
  if (podIP) {
    const fqdn = pod.spec.subdomain ? `${hostname}.${pod.spec.subdomain}.${pod.metadata.namespace ?? 'default'}.svc.${clusterDomain}` : undefined;
    lines.push(fqdn ? `${podIP}\t${fqdn}\t${hostname}` : `${podIP}\t${hostname}`);
  }
  const aliases = pod.spec.hostAliases ?? [];
  if (aliases.length) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${(a.hostnames ?? []).join('\t')}`);
  }
  return `${lines.join('\n')}\n`;
}
