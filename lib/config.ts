// Configuration shapes shared by cmd/ (which parses flags, env and the config file) and lib/ (which never does).
import type { LogFormat, LogLevel } from './log/logger.ts';

export interface CommonConfig {
  dataDir: string;
  nodeName: string;
  nodeIp?: string;
  logFormat: LogFormat;
  logLevel: LogLevel;
  /** Use an already-running CRI runtime instead of supervising containerd. */
  containerRuntimeEndpoint?: string;
  /** The embedded containerd's handler for pods without a RuntimeClass (runc, or crun when installed). */
  defaultRuntime?: string;
  clusterDns: string;
  clusterDomain: string;
  clusterCidr: string;
  serviceCidr: string;
  /** Comma-separated node labels, key=value. */
  nodeLabels: string[];
  /** Taints the node registers with, key[=value]:Effect. */
  nodeTaints?: string[];
  /** --kubelet-arg values, key=value as in k3s (eviction settings only; others are refused). */
  kubeletArgs?: string[];
}

export interface ServerConfig extends CommonConfig {
  httpsListenPort: number;
  /** Encrypt Secrets at rest with AES-GCM (key in <data-dir>/server/cred/encryption-config.json). */
  secretsEncryption?: boolean;
  bindAddress: string;
  token?: string;
  writeKubeconfig: string;
  writeKubeconfigMode?: string;
  disableAgent: boolean;
  tlsSan: string[];
  disable: string[];
  /** Development only: also serve plain HTTP on this loopback port. */
  insecureHttpLoopbackPort?: number;
  /** Test/benchmark only: register this many simulated nodes. */
  simNodes?: number;
}

export interface AgentConfig extends CommonConfig {
  server: string;
  token: string;
}

export const DEFAULTS = {
  dataDir: '/var/lib/tsk',
  kubeconfig: '/etc/tsk/tsk.yaml',
  configFile: '/etc/tsk/config.yaml',
  httpsListenPort: 6443,
  clusterCidr: '10.42.0.0/16',
  serviceCidr: '10.43.0.0/16',
  clusterDns: '10.43.0.10',
  clusterDomain: 'cluster.local',
} as const;

export const VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4+tsk1',
  tsk: '0.1.0',
};
