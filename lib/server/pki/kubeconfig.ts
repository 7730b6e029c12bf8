// Kubeconfig files: the admin one the server writes (/etc/tsk/tsk.yaml) and the kubelet's on agents.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse, stringify } from 'yaml';

export interface KubeconfigOptions {
  path: string;
  /** Octal string such as "600" or "644"; default 0600. */
  mode?: string;
  server: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  user?: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function renderKubeconfig(o: Omit<KubeconfigOptions, 'path' | 'mode'>): string {
  const user = o.user ?? 'default';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default', cluster: { server: o.server, 'certificate-authority-data': b64(o.caPem) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(o.certPem), 'client-key-data': b64(o.keyPem) } }],
    contexts: [{ name: 'default', context: { cluster: 'default', user } }],
    'current-context': 'default',
    preferences: {},
  });
}

export function writeKubeconfig(o: KubeconfigOptions): void {
  const mode = o.mode ? parseInt(o.mode, 8) : 0o600;
  mkdirSync(dirname(o.path), { recursive: true });
  const tmp = `${o.path}.tmp`;
  writeFileSync(tmp, renderKubeconfig(o), { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, o.path);
}

export interface KubeconfigCredentials {
  server: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Reads the current context's server, CA and client certificate (embedded data only). */
export function readKubeconfig(path: string): KubeconfigCredentials {
  const doc = parse(readFileSync(path, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const ctxName = doc['current-context'];
  const ctx = (doc.contexts ?? []).find((c: { name: string }) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`kubeconfig ${path} has no current context`);
  const cluster = (doc.clusters ?? []).find((c: { name: string }) => c.name === ctx.cluster)?.cluster;
  const user = (doc.users ?? []).find((c: { name: string }) => c.name === ctx.user)?.user;
  if (!cluster || !user) throw new Error(`kubeconfig ${path}: context ${ctxName} names a missing cluster or user`);
  const dec = (s: string | undefined, what: string) => {
    if (!s) throw new Error(`kubeconfig ${path} has no embedded ${what}`);
    return Buffer.from(s, 'base64').toString('utf8');
  };
  return {
    server: cluster.server,
    caPem: dec(cluster['certificate-authority-data'], 'certificate-authority-data'),
    certPem: dec(user['client-certificate-data'], 'client-certificate-data'),
    keyPem: dec(user['client-key-data'], 'client-key-data'),
  };
}
