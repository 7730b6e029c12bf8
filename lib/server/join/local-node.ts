// The server's own node: kubelet certificates signed directly by the local CAs (no network join), written to
// <data-dir>/agent/ in the same layout joinCluster produces, and reused while valid.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writePrivate as put, type JoinResult } from '../../agent/join/join.ts';
import { join } from 'node:path';
import { LEAF_VALIDITY_MS, RENEW_BEFORE_MS, type ServerCertificates } from '../pki/certificates.ts';
import { writeKubeconfig } from '../pki/kubeconfig.ts';
import { certInfo, generateKeyPair, privateKeyToPem, signLeaf } from '../pki/x509.ts';

/** The same files and fields an agent's join produces. */
export type LocalNodeCertificates = JoinResult;

export async function ensureLocalNodeCertificates(o: {
  dataDir: string;
  nodeName: string;
  nodeIps?: string[];
  /** URL the local kubelet uses (https://127.0.0.1:6443). */
  server: string;
  certs: Pick<ServerCertificates, 'serverCaPem' | 'serverCaKey' | 'clientCaPem' | 'clientCaKey'>;
  now?: number;
}): Promise<LocalNodeCertificates> {
  const now = o.now ?? Date.now();
  const dir = join(o.dataDir, 'agent');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = (n: string) => join(dir, n);
  const times = { notBefore: new Date(now - 60_000), notAfter: new Date(now + LEAF_VALIDITY_MS) };
  const fresh = (crt: string, cn: string, ips: string[] = []) => {
    if (!existsSync(f(crt)) || !existsSync(f(crt.replace(/\.crt$/, '.key')))) return false;
    const i = certInfo(readFileSync(f(crt), 'utf8'));
    return i.subject.cn === cn && i.notAfter.getTime() - now > RENEW_BEFORE_MS && ips.every((ip) => i.ips.includes(ip));
  };
  if (!fresh('client-kubelet.crt', `system:node:${o.nodeName}`)) {
    const keys = await generateKeyPair();
    const cert = await signLeaf({ subject: { cn: `system:node:${o.nodeName}`, o: ['system:nodes'] }, publicKey: keys.publicKey, caCertPem: o.certs.clientCaPem, caKey: o.certs.clientCaKey.privateKey, usage: 'client', ...times });
    put(f('client-kubelet.key'), await privateKeyToPem(keys.privateKey), 0o600);
    put(f('client-kubelet.crt'), cert, 0o644);
  }
  const ips = [...new Set(['127.0.0.1', ...(o.nodeIps ?? [])])];
  if (!fresh('serving-kubelet.crt', o.nodeName, ips)) {
    const keys = await generateKeyPair();
    const cert = await signLeaf({ subject: { cn: o.nodeName }, publicKey: keys.publicKey, caCertPem: o.certs.serverCaPem, caKey: o.certs.serverCaKey.privateKey, usage: 'server', dnsNames: [o.nodeName, 'localhost'], ips, ...times });
    put(f('serving-kubelet.key'), await privateKeyToPem(keys.privateKey), 0o600);
    put(f('serving-kubelet.crt'), cert, 0o644);
  }
  put(f('server-ca.crt'), o.certs.serverCaPem, 0o644);
  put(f('client-ca.crt'), o.certs.clientCaPem, 0o644);
  const out: LocalNodeCertificates = {
    kubeconfigPath: f('kubelet.kubeconfig'),
    caPem: o.certs.serverCaPem,
    clientCert: readFileSync(f('client-kubelet.crt'), 'utf8'),
    clientKey: readFileSync(f('client-kubelet.key'), 'utf8'),
    servingCert: readFileSync(f('serving-kubelet.crt'), 'utf8'),
    servingKey: readFileSync(f('serving-kubelet.key'), 'utf8'),
    clientCaPem: o.certs.clientCaPem,
  };
  writeKubeconfig({ path: out.kubeconfigPath, server: o.server, caPem: out.caPem, certPem: out.clientCert, keyPem: out.clientKey, user: `system:node:${o.nodeName}` });
  return out;
}
