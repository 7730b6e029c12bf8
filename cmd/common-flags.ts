// Flags shared by `tsk server` and `tsk agent`, named as in k3s.
import { hostname } from 'node:os';
import type { Argv } from 'yargs';
import { evictionConfig } from '../lib/agent/eviction/config.ts';
import { containerLogPolicy } from '../lib/agent/kubelet/log-rotation.ts';
import { parseTaint } from '../lib/agent/node/node-object.ts';
import { DEFAULTS, type CommonConfig } from '../lib/config.ts';

export function nodeFlags<T>(y: Argv<T>) {
  return y
    .option('data-dir', { alias: 'd', type: 'string', default: DEFAULTS.dataDir, describe: 'folder to hold state' })
    .option('node-name', { type: 'string', describe: 'node name (default: hostname)' })
    .option('node-ip', { alias: 'i', type: 'string', describe: 'IP address to advertise for the node' })
    .option('node-label', { type: 'array', string: true, default: [] as string[], describe: 'register with these labels (key=value)' })
    .option('node-taint', { type: 'array', string: true, default: [] as string[], describe: 'register with these taints (key=value:Effect)' })
    .option('container-runtime-endpoint', { type: 'string', describe: 'use an existing CRI socket instead of the embedded containerd' })
    .option('default-runtime', { type: 'string', describe: 'the embedded containerd\'s runtime for pods without a RuntimeClass (runc, or crun when installed)' })
    .option('cluster-dns', { type: 'string', default: DEFAULTS.clusterDns, describe: 'cluster DNS service IP' })
    .option('cluster-domain', { type: 'string', default: DEFAULTS.clusterDomain, describe: 'cluster domain' })
    .option('cluster-cidr', { type: 'string', default: DEFAULTS.clusterCidr, describe: 'IPv4 network for pod IPs' })
    .option('service-cidr', { type: 'string', default: DEFAULTS.serviceCidr, describe: 'IPv4 network for service IPs' })
    .option('kubelet-arg', { type: 'array', string: true, default: [] as string[], describe: 'kubelet flag as key=value (eviction-hard, eviction-soft, eviction-soft-grace-period, eviction-minimum-reclaim, eviction-pressure-transition-period, eviction-max-pod-grace-period, container-log-max-size, container-log-max-files)' });
}

export function commonConfig(a: Record<string, unknown>): CommonConfig {
  const nodeName = String(a.nodeName ?? hostname()).toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName)) throw new Error(`--node-name ${JSON.stringify(nodeName)} is not a valid DNS-1123 subdomain`);
  return {
    dataDir: String(a.dataDir),
    nodeName,
    nodeIp: a.nodeIp as string | undefined,
    logFormat: (a.logFormat as 'json' | 'text') ?? 'text',
    logLevel: 'info',
    containerRuntimeEndpoint: a.containerRuntimeEndpoint as string | undefined,
    defaultRuntime: a.defaultRuntime as string | undefined,
    clusterDns: String(a.clusterDns),
    clusterDomain: String(a.clusterDomain),
    clusterCidr: checkCidr('--cluster-cidr', String(a.clusterCidr)),
    serviceCidr: checkCidr('--service-cidr', String(a.serviceCidr)),
    nodeLabels: (a.nodeLabel as string[]) ?? [],
    nodeTaints: checkTaints((a.nodeTaint as string[] | undefined) ?? []),
    kubeletArgs: checkKubeletArgs((a.kubeletArg as string[] | undefined) ?? []),
  };
}

/** Taints the kubelet would refuse are refused at start, with its wording. */
function checkTaints(taints: string[]): string[] {
  const all = taints.flatMap((x) => x.split(',')).filter(Boolean);
  for (const s of all) parseTaint(s);
  return all;
}

/** Unknown kubelet flags are refused, as the kubelet k3s starts refuses them. */
function checkKubeletArgs(args: string[]): string[] {
  evictionConfig(args);
  containerLogPolicy(args);
  return args;
}

export function checkCidr(flag: string, v: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) throw new Error(`${flag} ${JSON.stringify(v)} is not an IPv4 CIDR such as 10.42.0.0/16`);
  return v;
}

/** Resolves when SIGINT/SIGTERM arrive; the returned signal aborts then. */
export function shutdownSignal(): AbortSignal {
  const ac = new AbortController();
  const stop = () => ac.abort(new Error('shutting down'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac.signal;
}
