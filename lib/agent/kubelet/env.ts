// Container environment: value, fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef, envFrom, and $(VAR)
// expansion (also applied to command and args).
import type { KubeObject } from '../../client/types.ts';
import type { ContainerSpec, Pod } from './pod-types.ts';
import { quantity } from './quantity.ts';

/** Looks up ConfigMaps and Secrets of the pod's namespace; undefined when missing. */
export interface ObjectSource {
  configMap(name: string): Promise<KubeObject | undefined>;
  secret(name: string): Promise<KubeObject | undefined>;
}

/** A missing non-optional reference: the container cannot be created (CreateContainerConfigError). */
export class ConfigError extends Error {}

export interface FieldContext { podIP?: string; hostIP?: string; nodeName?: string }

export function fieldValue(pod: Pod, path: string, f: FieldContext): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return pod.metadata[m[1] as 'labels' | 'annotations']?.[m[2]!] ?? '';
  switch (path) {
    case 'metadata.name': return pod.metadata.name ?? '';
    case 'metadata.namespace': return pod.metadata.namespace ?? '';
    case 'metadata.uid': return pod.metadata.uid ?? '';
    case 'metadata.labels': return formatMap(pod.metadata.labels);
    case 'metadata.annotations': return formatMap(pod.metadata.annotations);
    case 'spec.nodeName': return pod.spec.nodeName ?? f.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec.serviceAccountName ?? '';
    case 'status.podIP': return f.podIP ?? '';
    case 'status.podIPs': return f.podIP ?? '';
    case 'status.hostIP': return f.hostIP ?? '';
    case 'status.hostIPs': return f.hostIP ?? '';
    default: throw new ConfigError(`unsupported fieldRef ${path}`);
  }
}

const formatMap = (m?: Record<string, string>) => Object.keys(m ?? {}).sort().map((k) => `${k}="${m![k]!.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`).join('\n');

/** Value of resourceFieldRef (limits.cpu, requests.memory, ...); unset limits fall back to node allocatable. */
export function resourceValue(pod: Pod, containerName: string, resource: string, divisor: string | undefined, nodeAllocatable: Record<string, string>): string {
  const c = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((x) => x.name === containerName);
  const [kind, res] = resource.split('.') as ['limits' | 'requests', string];
  let v = c?.resources?.[kind]?.[res] ?? (kind === 'limits' ? nodeAllocatable[res] : undefined);
  if (v === undefined) v = '0';
  const d = quantity(divisor ?? (res === 'cpu' ? '1' : '1'));
  return String(Math.ceil(quantity(v) / d));
}

const decode = (obj: KubeObject, key: string, secret: boolean): string | undefined => {
  if (secret) {
    const b = obj.data?.[key] as string | undefined;
    return b === undefined ? (obj.stringData?.[key] as string | undefined) : Buffer.from(b, 'base64').toString('utf8');
  }
  const s = obj.data?.[key] as string | undefined;
  return s ?? (obj.binaryData?.[key] !== undefined ? Buffer.from(obj.binaryData[key] as string, 'base64').toString('utf8') : undefined);
};

/** Expands $(VAR) using vars; $$ escapes; unknown references stay as written. */
export function expand(s: string, vars: Map<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : vars.get(name!) ?? m));
}

export async function containerEnv(pod: Pod, c: ContainerSpec, src: ObjectSource, f: FieldContext, nodeAllocatable: Record<string, string> = {}): Promise<{ key: string; value: string }[]> {
  const vars = new Map<string, string>();
  for (const ef of c.envFrom ?? []) {
    const ref = ef.configMapRef ?? ef.secretRef;
    if (!ref) continue;
    const secret = !!ef.secretRef;
    const obj = secret ? await src.secret(ref.name) : await src.configMap(ref.name);
    if (!obj) {
      if (ref.optional) continue;
      throw new ConfigError(`${secret ? 'secret' : 'configmap'} "${ref.name}" not found`);
    }
    const keys = new Set([...Object.keys(obj.data ?? {}), ...Object.keys(secret ? {} : (obj.binaryData ?? {}))]);
    for (const k of keys) {
      const name = `${ef.prefix ?? ''}${k}`;
      if (/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) vars.set(name, decode(obj, k, secret) ?? '');
    }
  }
  for (const e of c.env ?? []) {
    const vf = e.valueFrom;
    if (!vf) { vars.set(e.name, expand(e.value ?? '', vars)); continue; }
    if (vf.fieldRef) vars.set(e.name, fieldValue(pod, vf.fieldRef.fieldPath, f));
    else if (vf.resourceFieldRef) vars.set(e.name, resourceValue(pod, vf.resourceFieldRef.containerName || c.name, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor, nodeAllocatable));
    else if (vf.configMapKeyRef || vf.secretKeyRef) {
      const ref = (vf.configMapKeyRef ?? vf.secretKeyRef)!;
      const secret = !!vf.secretKeyRef;
      const obj = secret ? await src.secret(ref.name) : await src.configMap(ref.name);
      const v = obj ? decode(obj, ref.key, secret) : undefined;
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ConfigError(obj ? `couldn't find key ${ref.key} in ${secret ? 'Secret' : 'ConfigMap'} ${pod.metadata.namespace}/${ref.name}` : `${secret ? 'secret' : 'configmap'} "${ref.name}" not found`);
      }
      vars.set(e.name, v);
    }
  }
  return [...vars].map(([key, value]) => ({ key, value }));
}
