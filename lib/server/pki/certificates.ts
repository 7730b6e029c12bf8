// The server's certificates under <data-dir>/server/tls (k3s layout): CAs for 10 years, leaves for 1 year, renewed
// at start within 90 days of expiry or when the serving names changed.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { logger } from '../../log/logger.ts';
import { certInfo, createCa, generateKeyPair, keyPairFromPem, privateKeyToPem, publicKeyToPem, signLeaf, type KeyPair, type Subject } from './x509.ts';

const log = logger('server/pki');

const DAY = 24 * 3600 * 1000;
export const CA_VALIDITY_MS = 3650 * DAY;
export const LEAF_VALIDITY_MS = 365 * DAY;
export const RENEW_BEFORE_MS = 90 * DAY;

export interface CertificateOptions {
  dataDir: string;
  nodeName: string;
  nodeIps?: string[];
  tlsSans?: string[];
  /** First IP of the service CIDR (10.43.0.1). */
  serviceIp?: string;
  /** Milliseconds since the epoch; injected for tests. */
  now?: number;
  /** Renew every leaf even when it is still valid (tsk certificate rotate). */
  forceRenewLeaves?: boolean;
}

export interface ServerCertificates {
  dir: string;
  serverCaPem: string;
  serverCaKey: KeyPair;
  clientCaPem: string;
  clientCaKey: KeyPair;
  servingCertPem: string;
  servingKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
  /** The API server's client certificate towards kubelets (logs, exec, port-forward): CN=system:kube-apiserver, O=system:masters. */
  apiserverClientCertPem: string;
  apiserverClientKeyPem: string;
  /** ServiceAccount token signing key pair (ES256). */
  serviceAccountKey: KeyPair;
  serviceAccountPublicPem: string;
}

export function tlsDir(dataDir: string): string {
  return join(dataDir, 'server', 'tls');
}

function writeSecret(path: string, data: string, mode = 0o600): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

const isIp = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || s.includes(':');

export function servingNames(o: CertificateOptions): { dnsNames: string[]; ips: string[] } {
  const dns = new Set<string>(['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']);
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const n of [hostname().toLowerCase(), o.nodeName, ...(o.tlsSans ?? [])]) if (n) (isIp(n) ? ips : dns).add(n);
  for (const ip of o.nodeIps ?? []) ips.add(ip);
  ips.add(o.serviceIp ?? '10.43.0.1');
  return { dnsNames: [...dns], ips: [...ips] };
}

async function loadOrCreateCa(dir: string, base: string, cn: string, now: number): Promise<{ pem: string; keys: KeyPair }> {
  const crt = join(dir, `${base}.crt`);
  const key = join(dir, `${base}.key`);
  if (existsSync(crt) && existsSync(key)) return { pem: readFileSync(crt, 'utf8'), keys: await keyPairFromPem(readFileSync(key, 'utf8')) };
  const keys = await generateKeyPair();
  const pem = await createCa({ cn: `${cn}@${Math.floor(now / 1000)}`, keys, notBefore: new Date(now - 60_000), notAfter: new Date(now + CA_VALIDITY_MS) });
  writeSecret(key, await privateKeyToPem(keys.privateKey));
  writeSecret(crt, pem, 0o644);
  log.info('generated certificate authority', { file: crt });
  return { pem, keys };
}

interface LeafSpec {
  base: string;
  subject: Subject;
  usage: 'server' | 'client';
  ca: { pem: string; keys: KeyPair };
  dnsNames?: string[];
  ips?: string[];
}

function leafIsCurrent(pem: string, spec: LeafSpec, caPem: string, now: number): boolean {
  const info = certInfo(pem);
  if (info.notAfter.getTime() - now < RENEW_BEFORE_MS) return false;
  if (info.issuerCn !== certInfo(caPem).subject.cn) return false;
  if (info.subject.cn !== spec.subject.cn) return false;
  const has = new Set([...info.dnsNames, ...info.ips]);
  return [...(spec.dnsNames ?? []), ...(spec.ips ?? [])].every((n) => has.has(n));
}

async function ensureLeaf(dir: string, spec: LeafSpec, now: number, force: boolean): Promise<{ certPem: string; keyPem: string }> {
  const crt = join(dir, `${spec.base}.crt`);
  const key = join(dir, `${spec.base}.key`);
  if (!force && existsSync(crt) && existsSync(key)) {
    const certPem = readFileSync(crt, 'utf8');
    if (leafIsCurrent(certPem, spec, spec.ca.pem, now)) return { certPem, keyPem: readFileSync(key, 'utf8') };
    log.info('renewing certificate', { file: crt });
  }
  const keys = await generateKeyPair();
  const keyPem = await privateKeyToPem(keys.privateKey);
  const certPem = await signLeaf({
    subject: spec.subject,
    publicKey: keys.publicKey,
    caCertPem: spec.ca.pem,
    caKey: spec.ca.keys.privateKey,
    usage: spec.usage,
    dnsNames: spec.dnsNames,
    ips: spec.ips,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + LEAF_VALIDITY_MS),
  });
  writeSecret(key, keyPem);
  writeSecret(crt, certPem, 0o644);
  return { certPem, keyPem };
}

/** Creates what is missing, renews leaves near expiry, and returns every certificate the server needs. */
export async function ensureCertificates(o: CertificateOptions): Promise<ServerCertificates> {
  const now = o.now ?? Date.now();
  const dir = tlsDir(o.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const serverCa = await loadOrCreateCa(dir, 'server-ca', 'tsk-server-ca', now);
  const clientCa = await loadOrCreateCa(dir, 'client-ca', 'tsk-client-ca', now);
  const force = o.forceRenewLeaves ?? false;
  const serving = await ensureLeaf(dir, { base: 'serving-kube-apiserver', subject: { cn: 'kube-apiserver' }, usage: 'server', ca: serverCa, ...servingNames(o) }, now, force);
  const admin = await ensureLeaf(dir, { base: 'client-admin', subject: { cn: 'system:admin', o: ['system:masters'] }, usage: 'client', ca: clientCa }, now, force);
  const apiClient = await ensureLeaf(dir, { base: 'client-kube-apiserver', subject: { cn: 'system:kube-apiserver', o: ['system:masters'] }, usage: 'client', ca: clientCa }, now, force);
  const saKeyFile = join(dir, 'service.key');
  let serviceAccountKey: KeyPair;
  if (existsSync(saKeyFile)) serviceAccountKey = await keyPairFromPem(readFileSync(saKeyFile, 'utf8'));
  else {
    serviceAccountKey = await generateKeyPair();
    writeSecret(saKeyFile, await privateKeyToPem(serviceAccountKey.privateKey));
  }
  return {
    dir,
    serverCaPem: serverCa.pem,
    serverCaKey: serverCa.keys,
    clientCaPem: clientCa.pem,
    clientCaKey: clientCa.keys,
    servingCertPem: serving.certPem,
    servingKeyPem: serving.keyPem,
    adminCertPem: admin.certPem,
    adminKeyPem: admin.keyPem,
    apiserverClientCertPem: apiClient.certPem,
    apiserverClientKeyPem: apiClient.keyPem,
    serviceAccountKey,
    serviceAccountPublicPem: await publicKeyToPem(serviceAccountKey.publicKey),
  };
}

/** `tsk certificate rotate`: renews every leaf certificate now (the CAs and the service-account key stay). */
export async function rotateCertificates(o: CertificateOptions): Promise<ServerCertificates> {
  return ensureCertificates({ ...o, forceRenewLeaves: true });
}

/** The options for node:https createServer: serving cert, client certificates verified against the client CA. */
export function servingTlsOptions(c: Pick<ServerCertificates, 'servingCertPem' | 'servingKeyPem' | 'serverCaPem' | 'clientCaPem'>) {
  return {
    cert: c.servingCertPem,
    key: c.servingKeyPem,
    ca: c.clientCaPem,
    requestCert: true,
    rejectUnauthorized: false,
  };
}
