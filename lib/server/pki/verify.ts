// Certificate checks with node:crypto alone, shared by the server's PKI and the agent's join (which must not load
// the x509 library behind x509.ts).
import { X509Certificate } from 'node:crypto';

/** True when pem was signed by the CA in caPem (signature only; the caller checks dates). */
export function isSignedBy(pem: string, caPem: string): boolean {
  try {
    const leaf = new X509Certificate(pem);
    const ca = new X509Certificate(caPem);
    return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
  } catch {
    return false;
  }
}
