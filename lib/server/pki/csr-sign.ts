// Signs an approved CertificateSigningRequest for the built-in signers, as kube-controller-manager's csrsigning
// controller does: kubernetes.io/kube-apiserver-client and kube-apiserver-client-kubelet with the client CA (what the
// API server trusts for client certificates), kubernetes.io/kubelet-serving with the server CA (what the API server
// trusts for kubelets). Other signers are not ours: undefined, the request stays approved and unissued.
import { LEAF_VALIDITY_MS } from './certificates.ts';
import { parseCsr, signLeaf, type KeyPair, type Subject } from './x509.ts';

export interface CsrSigningCas {
  serverCaPem: string;
  serverCaKey: KeyPair;
  clientCaPem: string;
  clientCaKey: KeyPair;
}

export interface CsrToSign {
  /** PEM (spec.request decoded). */
  request: string;
  signerName: string;
  usages: string[];
  expirationSeconds?: number;
}

export type SignResult = { certificate: string } | { failed: string } | undefined;

const CLIENT_USAGES = ['digital signature', 'key encipherment', 'client auth'];
const SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth'];

/** What is wrong with the request for this signer (upstream's validators), or undefined. */
export function signerRefusal(signerName: string, subject: Subject, usages: string[], sans: { dns: number; other: number }): string | undefined {
  const allowed = signerName === 'kubernetes.io/kubelet-serving' ? SERVING_USAGES : CLIENT_USAGES;
  const bad = usages.filter((u) => !allowed.includes(u));
  if (bad.length) return `invalid usage for client certificate: ${bad[0]}`;
  if (signerName === 'kubernetes.io/kube-apiserver-client') {
    if (!usages.includes('client auth')) return 'missing required usage: client auth';
    return undefined;
  }
  const nodeSubject = subject.cn.startsWith('system:node:') && subject.cn.length > 'system:node:'.length && (subject.o ?? []).length === 1 && subject.o![0] === 'system:nodes';
  if (!nodeSubject) return 'subject must be CN=system:node:<name>, O=system:nodes';
  if (signerName === 'kubernetes.io/kube-apiserver-client-kubelet' && sans.dns + sans.other > 0) return 'subjectAltNames are not allowed';
  if (signerName === 'kubernetes.io/kubelet-serving' && sans.other > 0) return 'only DNS and IP subjectAltNames are allowed';
  if (signerName === 'kubernetes.io/kubelet-serving' && sans.dns === 0) return 'at least one DNS or IP subjectAltName is required';
  return undefined;
}

export async function signCsr(cas: CsrSigningCas, r: CsrToSign, now = Date.now()): Promise<SignResult> {
  const client = ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet'].includes(r.signerName);
  if (!client && r.signerName !== 'kubernetes.io/kubelet-serving') return undefined;
  let csr;
  try {
    csr = await parseCsr(r.request);
  } catch (e) {
    return { failed: `unable to parse csr: ${(e as Error).message}` };
  }
  const { subject, dnsNames, ips } = csr;
  const refusal = signerRefusal(r.signerName, subject, r.usages, { dns: dnsNames.length + ips.length, other: csr.otherSans });
  if (refusal) return { failed: refusal };
  const ttl = Math.min(LEAF_VALIDITY_MS, (r.expirationSeconds ?? Infinity) * 1000);
  const certificate = await signLeaf({
    subject, publicKey: csr.publicKey, caCertPem: client ? cas.clientCaPem : cas.serverCaPem, caKey: (client ? cas.clientCaKey : cas.serverCaKey).privateKey,
    usage: client ? 'client' : 'server', dnsNames, ips,
    // Backdated 5 minutes for clock skew, as upstream's signer.
    notBefore: new Date(now - 5 * 60_000), notAfter: new Date(now + ttl),
  });
  return { certificate };
}
