// Pod Security admission: the baseline and restricted profiles of the Pod Security Standards, selected per
// namespace by the labels pod-security.kubernetes.io/{enforce,warn,audit}[-version]. Enforce rejects pods; warn
// (and enforce, for workload templates) answers with Warning headers. Messages follow Kubernetes' wording.
import type { KubeObject } from '../../client/types.ts';

export type Level = 'privileged' | 'baseline' | 'restricted';
const LABEL = 'pod-security.kubernetes.io/';
const LEVELS: Level[] = ['privileged', 'baseline', 'restricted'];

export interface NamespacePolicy { mode: 'enforce' | 'warn' | 'audit'; level: Level; version: string }

/** The policies a namespace's labels select (privileged ones left out: they allow everything). */
export function namespacePolicies(ns: KubeObject | undefined): NamespacePolicy[] {
  const labels = ns?.metadata.labels ?? {};
  const out: NamespacePolicy[] = [];
  for (const mode of ['enforce', 'warn', 'audit'] as const) {
    const level = labels[LABEL + mode] as Level | undefined;
    if (!level || !LEVELS.includes(level) || level === 'privileged') continue;
    out.push({ mode, level, version: labels[`${LABEL}${mode}-version`] || 'latest' });
  }
  return out;
}

interface Ctr { name: string; securityContext?: Record<string, any>; ports?: { hostPort?: number }[] }
type Spec = Record<string, any>;

const quote = (names: string[]) => names.map((n) => JSON.stringify(n)).join(', ');
const containerWord = (names: string[]) => (names.length === 1 ? 'container' : 'containers');
const allContainers = (spec: Spec): Ctr[] => [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];

const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']);
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

type Check = { id: string; level: Level; run(spec: Spec, meta: KubeObject['metadata']): string | undefined };

/** The checks, in Kubernetes' order (by check ID), each answering `reason (detail)` or nothing. */
const CHECKS: Check[] = [
  { id: 'allowPrivilegeEscalation', level: 'restricted', run: (s) => {
    const bad = allContainers(s).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
    return bad.length ? `allowPrivilegeEscalation != false (${containerWord(bad)} ${quote(bad)} must set securityContext.allowPrivilegeEscalation=false)` : undefined;
  } },
  { id: 'appArmorProfile', level: 'baseline', run: (s, meta) => {
    const bad: string[] = [];
    const ok = (p: any) => !p || p.type === 'RuntimeDefault' || p.type === 'Localhost';
    if (!ok(s.securityContext?.appArmorProfile)) bad.push(`pod must not set securityContext.appArmorProfile.type to ${JSON.stringify(s.securityContext.appArmorProfile.type)}`);
    for (const c of allContainers(s)) if (!ok(c.securityContext?.appArmorProfile)) bad.push(`container ${JSON.stringify(c.name)} must not set securityContext.appArmorProfile.type to ${JSON.stringify(c.securityContext!.appArmorProfile.type)}`);
    for (const [k, v] of Object.entries(meta.annotations ?? {})) {
      if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v !== 'runtime/default' && !String(v).startsWith('localhost/')) bad.push(`${k}=${JSON.stringify(v)}`);
    }
    return bad.length ? `forbidden AppArmor profile${bad.length > 1 ? 's' : ''} (${bad.join(', ')})` : undefined;
  } },
  { id: 'capabilities_baseline', level: 'baseline', run: (s) => {
    const bad = allContainers(s).flatMap((c) => ((c.securityContext?.capabilities?.add ?? []) as string[]).filter((x) => !BASELINE_CAPS.has(x)).map((x) => ({ c: c.name, x })));
    if (!bad.length) return undefined;
    const names = [...new Set(bad.map((b) => b.c))];
    const caps = [...new Set(bad.map((b) => b.x))];
    return `non-default capabilities (${containerWord(names)} ${quote(names)} must not include ${quote(caps)} in securityContext.capabilities.add)`;
  } },
  { id: 'capabilities_restricted', level: 'restricted', run: (s) => {
    const parts: string[] = [];
    const noDrop = allContainers(s).filter((c) => !((c.securityContext?.capabilities?.drop ?? []) as string[]).includes('ALL')).map((c) => c.name);
    if (noDrop.length) parts.push(`${containerWord(noDrop)} ${quote(noDrop)} must set securityContext.capabilities.drop=["ALL"]`);
    const adds = allContainers(s).flatMap((c) => ((c.securityContext?.capabilities?.add ?? []) as string[]).filter((x) => x !== 'NET_BIND_SERVICE').map((x) => ({ c: c.name, x })));
    if (adds.length) {
      const names = [...new Set(adds.map((b) => b.c))];
      parts.push(`${containerWord(names)} ${quote(names)} must not include ${quote([...new Set(adds.map((b) => b.x))])} in securityContext.capabilities.add`);
    }
    return parts.length ? `unrestricted capabilities (${parts.join('; ')})` : undefined;
  } },
  { id: 'hostNamespaces', level: 'baseline', run: (s) => {
    const on = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((k) => s[k] === true).map((k) => `${k}=true`);
    return on.length ? `host namespaces (${on.join(', ')})` : undefined;
  } },
  { id: 'hostPathVolumes', level: 'baseline', run: (s) => {
    const bad = ((s.volumes ?? []) as { name: string; hostPath?: unknown }[]).filter((v) => v.hostPath).map((v) => v.name);
    return bad.length ? `hostPath volumes (${bad.length === 1 ? 'volume' : 'volumes'} ${quote(bad)})` : undefined;
  } },
  { id: 'hostPorts', level: 'baseline', run: (s) => {
    const bad = allContainers(s).filter((c) => (c.ports ?? []).some((p) => p.hostPort));
    if (!bad.length) return undefined;
    const ports = [...new Set(bad.flatMap((c) => (c.ports ?? []).filter((p) => p.hostPort).map((p) => String(p.hostPort))))];
    const names = bad.map((c) => c.name);
    return `hostPort (${containerWord(names)} ${quote(names)} ${ports.length === 1 ? 'uses hostPort' : 'use hostPorts'} ${ports.join(', ')})`;
  } },
  { id: 'hostProcess', level: 'baseline', run: (s) => {
    const pod = s.securityContext?.windowsOptions?.hostProcess === true;
    const bad = allContainers(s).filter((c) => c.securityContext?.windowsOptions?.hostProcess === true).map((c) => c.name);
    if (!pod && !bad.length) return undefined;
    return `hostProcess (${[pod ? 'pod' : '', bad.length ? `${containerWord(bad)} ${quote(bad)}` : ''].filter(Boolean).join(' and ')} must not set securityContext.windowsOptions.hostProcess=true)`;
  } },
  { id: 'privileged', level: 'baseline', run: (s) => {
    const bad = allContainers(s).filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
    return bad.length ? `privileged (${containerWord(bad)} ${quote(bad)} must not set securityContext.privileged=true)` : undefined;
  } },
  { id: 'procMount', level: 'baseline', run: (s) => {
    const bad = allContainers(s).filter((c) => c.securityContext?.procMount && c.securityContext.procMount !== 'Default').map((c) => c.name);
    return bad.length ? `procMount (${containerWord(bad)} ${quote(bad)} must not set securityContext.procMount to ${quote([...new Set(allContainers(s).filter((c) => bad.includes(c.name)).map((c) => c.securityContext!.procMount as string))])})` : undefined;
  } },
  { id: 'restrictedVolumes', level: 'restricted', run: (s) => {
    const bad = ((s.volumes ?? []) as Record<string, unknown>[]).map((v) => ({ name: v.name as string, type: Object.keys(v).find((k) => k !== 'name') ?? '' }))
      .filter((v) => v.type && !RESTRICTED_VOLUMES.has(v.type));
    if (!bad.length) return undefined;
    const types = [...new Set(bad.map((v) => v.type))];
    return `restricted volume types (${bad.length === 1 ? 'volume' : 'volumes'} ${quote(bad.map((v) => v.name))} ${bad.length === 1 ? 'uses' : 'use'} restricted volume type${types.length > 1 ? 's' : ''} ${quote(types)})`;
  } },
  { id: 'runAsNonRoot', level: 'restricted', run: (s) => {
    const podSet = s.securityContext?.runAsNonRoot;
    const explicitFalse = allContainers(s).filter((c) => c.securityContext?.runAsNonRoot === false).map((c) => c.name);
    const unset = allContainers(s).filter((c) => c.securityContext?.runAsNonRoot === undefined && podSet !== true).map((c) => c.name);
    const parts: string[] = [];
    if (podSet === false) parts.push('pod must not set securityContext.runAsNonRoot=false');
    if (explicitFalse.length) parts.push(`${containerWord(explicitFalse)} ${quote(explicitFalse)} must not set securityContext.runAsNonRoot=false`);
    if (unset.length && podSet !== false) parts.push(`pod or ${containerWord(unset)} ${quote(unset)} must set securityContext.runAsNonRoot=true`);
    return parts.length ? `runAsNonRoot != true (${parts.join('; ')})` : undefined;
  } },
  { id: 'runAsUser', level: 'restricted', run: (s) => {
    const parts: string[] = [];
    if (s.securityContext?.runAsUser === 0) parts.push('pod must not set runAsUser=0');
    const bad = allContainers(s).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name);
    if (bad.length) parts.push(`${containerWord(bad)} ${quote(bad)} must not set runAsUser=0`);
    return parts.length ? `runAsUser=0 (${parts.join('; ')})` : undefined;
  } },
  { id: 'seLinuxOptions', level: 'baseline', run: (s) => {
    const okType = (t?: string) => !t || ['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'].includes(t);
    const bad = (o: any) => o && (!okType(o.type) || o.user || o.role);
    const who: string[] = [];
    if (bad(s.securityContext?.seLinuxOptions)) who.push('pod');
    const cs = allContainers(s).filter((c) => bad(c.securityContext?.seLinuxOptions)).map((c) => c.name);
    if (cs.length) who.push(`${containerWord(cs)} ${quote(cs)}`);
    return who.length ? `seLinuxOptions (${who.join(' and ')} set forbidden securityContext.seLinuxOptions)` : undefined;
  } },
  { id: 'seccompProfile_baseline', level: 'baseline', run: (s) => {
    const parts: string[] = [];
    if (s.securityContext?.seccompProfile?.type === 'Unconfined') parts.push('pod must not set securityContext.seccompProfile.type to "Unconfined"');
    const bad = allContainers(s).filter((c) => c.securityContext?.seccompProfile?.type === 'Unconfined').map((c) => c.name);
    if (bad.length) parts.push(`${containerWord(bad)} ${quote(bad)} must not set securityContext.seccompProfile.type to "Unconfined"`);
    return parts.length ? `seccompProfile (${parts.join('; ')})` : undefined;
  } },
  { id: 'seccompProfile_restricted', level: 'restricted', run: (s) => {
    const ok = (t?: string) => t === 'RuntimeDefault' || t === 'Localhost';
    const podType = s.securityContext?.seccompProfile?.type as string | undefined;
    const parts: string[] = [];
    if (podType && !ok(podType)) parts.push(`pod must not set securityContext.seccompProfile.type to ${JSON.stringify(podType)}`);
    const badSet = allContainers(s).filter((c) => c.securityContext?.seccompProfile?.type && !ok(c.securityContext.seccompProfile.type));
    if (badSet.length) {
      const names = badSet.map((c) => c.name);
      parts.push(`${containerWord(names)} ${quote(names)} must not set securityContext.seccompProfile.type to ${quote([...new Set(badSet.map((c) => c.securityContext!.seccompProfile.type as string))])}`);
    }
    const unset = podType ? [] : allContainers(s).filter((c) => !c.securityContext?.seccompProfile?.type).map((c) => c.name);
    if (unset.length) parts.push(`pod or ${containerWord(unset)} ${quote(unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`);
    return parts.length ? `seccompProfile (${parts.join('; ')})` : undefined;
  } },
  { id: 'sysctls', level: 'baseline', run: (s) => {
    const bad = ((s.securityContext?.sysctls ?? []) as { name: string }[]).map((x) => x.name).filter((n) => !SAFE_SYSCTLS.has(n));
    return bad.length ? `forbidden sysctls (${bad.join(', ')})` : undefined;
  } },
];

/** The violations of a pod spec at a level, in Kubernetes' order. */
export function checkPod(level: Level, spec: Spec, meta: KubeObject['metadata'] = {}): string[] {
  if (level === 'privileged') return [];
  // at restricted, the restricted versions of capabilities and seccompProfile replace the baseline ones
  const overridden = level === 'restricted' ? new Set(['capabilities_baseline', 'seccompProfile_baseline']) : new Set<string>();
  return CHECKS.filter((c) => (level === 'restricted' || c.level === 'baseline') && !overridden.has(c.id)).map((c) => c.run(spec ?? {}, meta)).filter((x): x is string => !!x);
}

/** The pod template of a workload kind, if it has one. */
export function podTemplateOf(resource: string, group: string, obj: KubeObject): { spec: Spec; metadata: KubeObject['metadata'] } | undefined {
  const tpl = (x: any) => (x?.spec ? { spec: x.spec as Spec, metadata: (x.metadata ?? {}) as KubeObject['metadata'] } : undefined);
  if (group === 'batch' && resource === 'cronjobs') return tpl(obj.spec?.jobTemplate?.spec?.template);
  if ((group === 'apps' && ['deployments', 'replicasets', 'statefulsets', 'daemonsets'].includes(resource)) || (group === 'batch' && resource === 'jobs')
    || (!group && (resource === 'replicationcontrollers' || resource === 'podtemplates'))) {
    return tpl(resource === 'podtemplates' ? obj.template : obj.spec?.template);
  }
  return undefined;
}

export interface PodSecurityResult { deny?: string; warnings: string[]; audit: string[] }

/**
 * Evaluates a pod (or workload with a pod template) against the namespace's policies.
 * Pods: enforce → deny, warn → warnings. Templates: enforce and warn → warnings (never denied).
 */
export function evaluatePodSecurity(policies: NamespacePolicy[], a: { resource: string; group: string; subresource?: string; object: KubeObject }): PodSecurityResult {
  const out: PodSecurityResult = { warnings: [], audit: [] };
  if (a.subresource && !(a.resource === 'pods' && a.subresource === 'ephemeralcontainers')) return out;
  const isPod = !a.group && a.resource === 'pods';
  const target = isPod ? { spec: a.object.spec ?? {}, metadata: a.object.metadata } : podTemplateOf(a.resource, a.group, a.object);
  if (!target) return out;
  const seen = new Set<string>();
  for (const p of policies) {
    const v = checkPod(p.level, target.spec, target.metadata);
    if (!v.length) continue;
    const policy = `"${p.level}:${p.version}"`;
    if (p.mode === 'enforce' && isPod) out.deny = `violates PodSecurity ${policy}: ${v.join(', ')}`;
    else if (p.mode === 'enforce' || p.mode === 'warn') {
      const w = `would violate PodSecurity ${policy}: ${v.join(', ')}`;
      if (!seen.has(w)) { seen.add(w); out.warnings.push(w); }
    } else out.audit.push(`${policy}: ${v.join(', ')}`);
  }
  if (out.deny) out.warnings = out.warnings.filter((w) => !w.includes(out.deny!.slice('violates '.length)));
  return out;
}
