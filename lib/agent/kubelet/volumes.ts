// Pod volumes on the node: directories under <data-dir>/agent/pods/<uid>/volumes/<plugin>/<name>, filled from
// ConfigMaps, Secrets, the downward API and service-account tokens, then bind-mounted through CRI mounts. Files are
// rewritten only when their content changed (no idle disk writes).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { core, type Client, type KubeObject } from '../../client/types.ts';
import type { CommandRunner } from '../exec/runner.ts';
import type { Mount } from '../cri/types.ts';
import { ConfigError, fieldValue, resourceValue, type FieldContext, type ObjectSource } from './env.ts';
import type { ContainerSpec, DownwardItem, KeyToPath, Pod, Volume } from './pod-types.ts';
import { quantity } from './quantity.ts';

export interface VolumeContext {
  podsDir: string;
  src: ObjectSource;
  client: Pick<Client, 'get' | 'createSubresource'>;
  runner: CommandRunner;
  field: FieldContext;
  nodeAllocatable?: Record<string, string>;
  now: number;
  /** Token cache (per pod uid + volume), kept by the caller across syncs. */
  tokens: Map<string, { token: string; refreshAt: number }>;
}

export const podDir = (podsDir: string, uid: string) => join(podsDir, uid);

function safeRel(p: string): string {
  const n = normalize(p);
  if (n.startsWith('..') || n.startsWith('/')) throw new ConfigError(`invalid path ${p}`);
  return n;
}

/** Writes files (relative path → content) into dir; removes files no longer present. Returns true when anything changed. */
export function syncFiles(dir: string, files: Map<string, { data: Buffer; mode: number }>): boolean {
  mkdirSync(dir, { recursive: true });
  let changed = false;
  for (const [rel, f] of files) {
    const p = join(dir, safeRel(rel));
    let same = false;
    try { same = readFileSync(p).equals(f.data) && (statSync(p).mode & 0o777) === f.mode; } catch { /* new file */ }
    if (same) continue;
    mkdirSync(dirname(p), { recursive: true });
    const tmp = `${p}.tsk-tmp`;
    writeFileSync(tmp, f.data, { mode: f.mode });
    renameSync(tmp, p);
    changed = true;
  }
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), rel);
      else if (!files.has(rel)) { rmSync(join(d, e.name), { force: true }); changed = true; }
    }
  };
  walk(dir, '');
  return changed;
}

function keyFiles(obj: KubeObject | undefined, items: KeyToPath[] | undefined, mode: number, secret: boolean, out: Map<string, { data: Buffer; mode: number }>, what: string, optional?: boolean): void {
  if (!obj) {
    if (optional) return;
    throw new ConfigError(`${what} not found`);
  }
  const raw = (k: string): Buffer | undefined => {
    if (obj.data?.[k] !== undefined) return secret ? Buffer.from(obj.data[k] as string, 'base64') : Buffer.from(obj.data[k] as string);
    if (!secret && obj.binaryData?.[k] !== undefined) return Buffer.from(obj.binaryData[k] as string, 'base64');
    return undefined;
  };
  if (items?.length) {
    for (const it of items) {
      const d = raw(it.key);
      if (d === undefined) { if (optional) continue; throw new ConfigError(`${what}: key ${it.key} not found`); }
      out.set(safeRel(it.path), { data: d, mode: it.mode ?? mode });
    }
  } else {
    for (const k of new Set([...Object.keys(obj.data ?? {}), ...Object.keys(secret ? {} : (obj.binaryData ?? {}))])) out.set(k, { data: raw(k)!, mode });
  }
}

function downwardFiles(pod: Pod, items: DownwardItem[] | undefined, mode: number, ctx: VolumeContext, out: Map<string, { data: Buffer; mode: number }>): void {
  for (const it of items ?? []) {
    let v = '';
    if (it.fieldRef) v = fieldValue(pod, it.fieldRef.fieldPath, ctx.field);
    else if (it.resourceFieldRef) v = resourceValue(pod, it.resourceFieldRef.containerName ?? pod.spec.containers[0]!.name, it.resourceFieldRef.resource, it.resourceFieldRef.divisor, ctx.nodeAllocatable ?? {});
    out.set(safeRel(it.path), { data: Buffer.from(v), mode: it.mode ?? mode });
  }
}

async function saToken(pod: Pod, vol: string, src: { audience?: string; expirationSeconds?: number }, ctx: VolumeContext): Promise<string> {
  const key = `${pod.metadata.uid}/${vol}/${src.audience ?? ''}`;
  const hit = ctx.tokens.get(key);
  if (hit && hit.refreshAt > ctx.now) return hit.token;
  const exp = src.expirationSeconds ?? 3607;
  const tr = await ctx.client.createSubresource(core('serviceaccounts'), pod.spec.serviceAccountName ?? 'default', 'token', {
    apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {},
    spec: { audiences: src.audience ? [src.audience] : [], expirationSeconds: exp, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } },
  }, pod.metadata.namespace);
  const token = tr.status?.token as string | undefined;
  if (!token) throw new ConfigError(`no token for service account ${pod.spec.serviceAccountName ?? 'default'}`);
  ctx.tokens.set(key, { token, refreshAt: ctx.now + exp * 800 });
  return token;
}

/** Prepares one volume; returns its host path. */
export async function setUpVolume(pod: Pod, v: Volume, ctx: VolumeContext): Promise<string> {
  const base = join(podDir(ctx.podsDir, pod.metadata.uid!), 'volumes');
  const files = new Map<string, { data: Buffer; mode: number }>();
  if (v.hostPath) {
    const t = v.hostPath.type ?? '';
    if ((t === 'DirectoryOrCreate') && !existsSync(v.hostPath.path)) mkdirSync(v.hostPath.path, { recursive: true, mode: 0o755 });
    if (t === 'FileOrCreate' && !existsSync(v.hostPath.path)) { mkdirSync(dirname(v.hostPath.path), { recursive: true }); writeFileSync(v.hostPath.path, ''); }
    if ((t === 'Directory' || t === 'File' || t === 'Socket') && !existsSync(v.hostPath.path)) throw new ConfigError(`hostPath ${v.hostPath.path} does not exist`);
    return v.hostPath.path;
  }
  if (v.emptyDir) {
    const dir = join(base, 'empty-dir', v.name);
    mkdirSync(dir, { recursive: true, mode: 0o777 });
    if (v.emptyDir.medium === 'Memory' && !isMountPoint(dir)) {
      const size = v.emptyDir.sizeLimit ? `,size=${Math.floor(quantity(v.emptyDir.sizeLimit))}` : '';
      await ctx.runner.run('mount', ['-t', 'tmpfs', '-o', `mode=0777${size}`, 'tmpfs', dir]);
    }
    return dir;
  }
  if (v.persistentVolumeClaim) {
    const pvc = await ctx.client.get(core('persistentvolumeclaims'), v.persistentVolumeClaim.claimName, pod.metadata.namespace);
    const pvName = pvc.spec?.volumeName as string | undefined;
    if (!pvName) throw new ConfigError(`persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" is not bound`);
    const pv = await ctx.client.get(core('persistentvolumes'), pvName);
    const path = (pv.spec?.hostPath?.path ?? pv.spec?.local?.path) as string | undefined;
    if (!path) throw new ConfigError(`persistentvolume "${pvName}" is neither hostPath nor local`);
    mkdirSync(path, { recursive: true, mode: 0o777 });
    return path;
  }
  let plugin: string;
  if (v.configMap) {
    plugin = 'configmap';
    keyFiles(await ctx.src.configMap(v.configMap.name), v.configMap.items, v.configMap.defaultMode ?? 0o644, false, files, `configmap "${v.configMap.name}"`, v.configMap.optional);
  } else if (v.secret) {
    plugin = 'secret';
    keyFiles(await ctx.src.secret(v.secret.secretName), v.secret.items, v.secret.defaultMode ?? 0o644, true, files, `secret "${v.secret.secretName}"`, v.secret.optional);
  } else if (v.downwardAPI) {
    plugin = 'downward-api';
    downwardFiles(pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? 0o644, ctx, files);
  } else if (v.projected) {
    plugin = 'projected';
    const mode = v.projected.defaultMode ?? 0o644;
    for (const s of v.projected.sources ?? []) {
      if (s.configMap) keyFiles(await ctx.src.configMap(s.configMap.name), s.configMap.items, mode, false, files, `configmap "${s.configMap.name}"`, s.configMap.optional);
      if (s.secret) keyFiles(await ctx.src.secret(s.secret.name), s.secret.items, mode, true, files, `secret "${s.secret.name}"`, s.secret.optional);
      if (s.downwardAPI) downwardFiles(pod, s.downwardAPI.items, mode, ctx, files);
      if (s.serviceAccountToken) files.set(safeRel(s.serviceAccountToken.path), { data: Buffer.from(await saToken(pod, v.name, s.serviceAccountToken, ctx)), mode: mode });
    }
  } else {
    throw new ConfigError(`volume "${v.name}": unsupported volume type`);
  }
  const dir = join(base, plugin, v.name);
  syncFiles(dir, files);
  return dir;
}

export function isMountPoint(dir: string): boolean {
  try {
    return readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === dir);
  } catch {
    return false;
  }
}

/** Sets up every volume of the pod; returns name → host path. */
export async function setUpVolumes(pod: Pod, ctx: VolumeContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const v of pod.spec.volumes ?? []) out.set(v.name, await setUpVolume(pod, v, ctx));
  return out;
}

/** CRI mounts of one container. */
export function containerMounts(c: ContainerSpec, volumes: Map<string, string>, pod: Pod): Mount[] {
  const mounts: Mount[] = [];
  const ro = new Set((pod.spec.volumes ?? []).filter((v) => v.configMap || v.secret || v.downwardAPI || v.projected || v.persistentVolumeClaim?.readOnly).map((v) => v.name));
  for (const m of c.volumeMounts ?? []) {
    const host = volumes.get(m.name);
    if (!host) throw new ConfigError(`volume "${m.name}" not found`);
    let hostPath = host;
    if (m.subPath) {
      hostPath = join(host, safeRel(m.subPath));
      if (!existsSync(hostPath)) mkdirSync(hostPath, { recursive: true, mode: 0o777 });
    }
    mounts.push({
      container_path: m.mountPath, host_path: hostPath, readonly: !!m.readOnly || ro.has(m.name),
      propagation: m.mountPropagation === 'Bidirectional' ? 'PROPAGATION_BIDIRECTIONAL' : m.mountPropagation === 'HostToContainer' ? 'PROPAGATION_HOST_TO_CONTAINER' : 'PROPAGATION_PRIVATE',
    });
  }
  return mounts;
}

/** Unmounts tmpfs emptyDirs and removes the pod's directory. */
export async function tearDownPodDir(podsDir: string, uid: string, runner: CommandRunner): Promise<void> {
  const dir = podDir(podsDir, uid);
  if (!existsSync(dir)) return;
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${dir}/`));
  for (const m of mounts.sort().reverse()) await runner.run('umount', [m], { allowFail: true });
  rmSync(dir, { recursive: true, force: true });
}
