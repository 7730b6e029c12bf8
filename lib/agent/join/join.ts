// The agent side of joining: fetch /cacerts, pin it against the token's CA hash, then (and only then) send the
// join secret with this machine's node password and two CSRs; keep the signed kubelet certificates under
// <data-dir>/agent/ and reuse them on later starts.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../../log/logger.ts';
import { httpsRequest } from '../../server/pki/https-request.ts';
import { writeKubeconfig } from '../../server/pki/kubeconfig.ts';
import { caHash, parseToken } from '../../server/join/token.ts';
import { JOIN_PATH, NODE_NAME_HEADER, NODE_PASSWORD_HEADER, type JoinResponseBody } from '../../server/join/protocol.ts';
import { canonicalIp, certFacts, createCsr, generateKeyPair, isSignedBy, privateKeyToPem } from './csr.ts';

const log = logger('agent/join');

const RENEW_BEFORE_MS = 90 * 24 * 3600 * 1000;

export interface JoinOptions {
  server: string;
  token: string;
  dataDir: string;
  nodeName: string;
  nodeIps?: string[];
  now?: () => number;
}

export interface JoinResult {
  kubeconfigPath: string;
  caPem: string;
  clientCert: string;
  clientKey: string;
  servingCert: string;
  servingKey: string;
  clientCaPem: string;
}

export class JoinError extends Error {}

/** Writes a credential file atomically (temp file + rename) with the given mode. */
export function writePrivate(path: string, data: string, mode = 0o600): void {
  writeFileSync(`${path}.tmp`, data, { mode });
  renameSync(`${path}.tmp`, path);
}

export const agentDir = (dataDir: string) => join(dataDir, 'agent');

/** Reads or creates <data-dir>/agent/node-password. */
export function nodePassword(dataDir: string): string {
  const file = join(agentDir(dataDir), 'node-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(agentDir(dataDir), { recursive: true, mode: 0o700 });
  const pw = randomBytes(24).toString('hex');
  writePrivate(file, `${pw}\n`);
  return pw;
}

/** Fetches the server's CA bundle and checks it against the token's pin. Sends no credential. */
export async function fetchPinnedCa(server: string, token: string): Promise<string> {
  const parsed = parseToken(token);
  const res = await httpsRequest({ url: new URL('/cacerts', server).toString(), insecure: true });
  if (res.status !== 200) throw new JoinError(`GET ${server}/cacerts answered ${res.status}`);
  const ca = res.text();
  if (!ca.includes('BEGIN CERTIFICATE')) throw new JoinError(`GET ${server}/cacerts did not return a PEM CA bundle`);
  if (parsed.caHash) {
    if (caHash(ca) !== parsed.caHash) throw new JoinError(`the CA served by ${server} does not match the hash in the token; refusing to send credentials (wrong server or wrong token?)`);
  } else {
    log.warn('the token has no CA hash (bare secret): the server CA is NOT verified; use the K10... token from <data-dir>/server/token', { server });
  }
  return ca;
}

function reuse(o: JoinOptions, now: number): JoinResult | undefined {
  const dir = agentDir(o.dataDir);
  const files = ['client-kubelet.crt', 'client-kubelet.key', 'serving-kubelet.crt', 'serving-kubelet.key', 'server-ca.crt', 'client-ca.crt', 'kubelet.kubeconfig'];
  if (!files.every((f) => existsSync(join(dir, f)))) return undefined;
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const clientCert = read('client-kubelet.crt');
  const info = certFacts(clientCert);
  if (info.cn !== `system:node:${o.nodeName}` || info.notAfter.getTime() - now < RENEW_BEFORE_MS) return undefined;
  const serving = certFacts(read('serving-kubelet.crt'));
  if (serving.notAfter.getTime() - now < RENEW_BEFORE_MS || !(o.nodeIps ?? []).every((ip) => serving.ips.includes(canonicalIp(ip)))) return undefined;
  const caPem = read('server-ca.crt');
  const parsed = parseToken(o.token);
  if (parsed.caHash && caHash(caPem) !== parsed.caHash) return undefined;
  return {
    kubeconfigPath: join(dir, 'kubelet.kubeconfig'),
    caPem,
    clientCert,
    clientKey: read('client-kubelet.key'),
    servingCert: read('serving-kubelet.crt'),
    servingKey: read('serving-kubelet.key'),
    clientCaPem: read('client-ca.crt'),
  };
}

export async function joinCluster(o: JoinOptions): Promise<JoinResult> {
  const now = (o.now ?? Date.now)();
  const kept = reuse(o, now);
  if (kept) {
    log.info('reusing kubelet certificates', { dir: agentDir(o.dataDir) });
    return kept;
  }
  const caPem = await fetchPinnedCa(o.server, o.token);
  const password = nodePassword(o.dataDir);
  const clientKeys = await generateKeyPair();
  const servingKeys = await generateKeyPair();
  const body = JSON.stringify({
    nodeName: o.nodeName,
    clientCsr: createCsr({ subject: { cn: `system:node:${o.nodeName}`, o: ['system:nodes'] }, keys: clientKeys }),
    servingCsr: createCsr({ subject: { cn: o.nodeName }, keys: servingKeys, dnsNames: [o.nodeName], ips: o.nodeIps ?? [] }),
  });
  const secret = parseToken(o.token).secret;
  const auth = /^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(secret) ? `Bearer ${secret}` : `Basic ${Buffer.from(`node:${secret}`).toString('base64')}`;
  const res = await httpsRequest({
    url: new URL(JOIN_PATH, o.server).toString(),
    method: 'POST',
    ca: caPem,
    headers: { 'content-type': 'application/json', authorization: auth, [NODE_NAME_HEADER]: o.nodeName, [NODE_PASSWORD_HEADER]: password },
    body,
  });
  if (res.status !== 200) {
    let msg = res.text();
    try {
      msg = (res.json() as { message?: string }).message ?? msg;
    } catch { /* not JSON */ }
    if (res.status === 401) throw new JoinError(`the server at ${o.server} refused the token (401 Unauthorized)`);
    throw new JoinError(`joining ${o.server} failed (${res.status}): ${msg}`);
  }
  const out = res.json<JoinResponseBody>();
  if (!isSignedBy(out.servingCert, caPem) || !isSignedBy(out.clientCert, out.clientCa)) throw new JoinError('the server returned certificates not signed by its CAs');
  const dir = agentDir(o.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const clientKey = privateKeyToPem(clientKeys.privateKey);
  const servingKey = privateKeyToPem(servingKeys.privateKey);
  writePrivate(join(dir, 'client-kubelet.key'), clientKey);
  writePrivate(join(dir, 'client-kubelet.crt'), out.clientCert, 0o644);
  writePrivate(join(dir, 'serving-kubelet.key'), servingKey);
  writePrivate(join(dir, 'serving-kubelet.crt'), out.servingCert, 0o644);
  writePrivate(join(dir, 'server-ca.crt'), caPem, 0o644);
  writePrivate(join(dir, 'client-ca.crt'), out.clientCa, 0o644);
  const kubeconfigPath = join(dir, 'kubelet.kubeconfig');
  writeKubeconfig({ path: kubeconfigPath, server: o.server, caPem, certPem: out.clientCert, keyPem: clientKey, user: `system:node:${o.nodeName}` });
  log.info('joined the cluster', { server: o.server, node: o.nodeName });
  return { kubeconfigPath, caPem, clientCert: out.clientCert, clientKey, servingCert: out.servingCert, servingKey, clientCaPem: out.clientCa };
}
