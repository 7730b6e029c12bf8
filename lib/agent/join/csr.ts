// The agent's certificate needs with node:crypto only: ECDSA P-256 keys, PKCS#10 CSRs (a few lines of DER) and the
// facts of a signed certificate it checks before reusing it. The server's adapter (lib/server/pki/x509.ts, over
// @peculiar/x509) is not loaded by agents: that library and its ASN.1 schemas cost an idle agent ~3 MB of heap.
// createCsr's request info is byte for byte what x509.ts's createCsr encodes (csr.test.ts compares them).
import { X509Certificate, generateKeyPair as generateKeyPairCb, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPairCb);

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface CsrSubject {
  cn: string;
  o?: string[];
}

export function generateKeyPair(): Promise<KeyPair> {
  return generateKeyPairAsync('ec', { namedCurve: 'P-256' });
}

/** PKCS#8 PEM, as x509.ts's privateKeyToPem writes it. */
export function privateKeyToPem(key: KeyObject): string {
  return toPem(key.export({ type: 'pkcs8', format: 'der' }), 'PRIVATE KEY');
}

function toPem(der: Uint8Array, label: string): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----`;
}

/** One DER TLV. */
function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

const seq = (...c: Uint8Array[]) => tlv(0x30, ...c);
const OID = {
  commonName: Buffer.from('0603550403', 'hex'),
  organizationName: Buffer.from('060355040a', 'hex'),
  extensionRequest: Buffer.from('06092a864886f70d01090e', 'hex'),
  subjectAltName: Buffer.from('0603551d11', 'hex'),
  ecdsaWithSha256: Buffer.from('06082a8648ce3d040302', 'hex'),
};

/** PrintableString when the value allows it, else UTF8String (as @peculiar/x509 chooses). */
function directoryString(v: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(v) ? tlv(0x13, Buffer.from(v, 'latin1')) : tlv(0x0c, Buffer.from(v, 'utf8'));
}

/** The subject Name: one RDN per O, then the CN (x509.ts's order). */
function name(s: CsrSubject): Buffer {
  const rdn = (oid: Buffer, v: string) => tlv(0x31, seq(oid, directoryString(v)));
  return seq(...(s.o ?? []).map((o) => rdn(OID.organizationName, o)), rdn(OID.commonName, s.cn));
}

/** The 4 or 16 bytes of an IP address (a SAN iPAddress). */
function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  if (isIP(ip) !== 6) throw new Error(`${ip} is not an IP address`);
  const [head = '', tail] = canonicalIp(ip).split('::'); // hex groups only, at most one '::'
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** The CSR's attributes: an extensionRequest with the subjectAltName when there are names, else none. */
function attributes(dnsNames: string[], ips: string[]): Buffer {
  if (!dnsNames.length && !ips.length) return tlv(0xa0);
  const names = seq(...dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'latin1'))), ...ips.map((ip) => tlv(0x87, ipBytes(ip))));
  const san = seq(OID.subjectAltName, tlv(0x04, names));
  return tlv(0xa0, seq(OID.extensionRequest, tlv(0x31, seq(san))));
}

/** The DER CertificationRequestInfo (exported for the byte-for-byte test). */
export function requestInfo(opts: { subject: CsrSubject; publicKey: KeyObject; dnsNames?: string[]; ips?: string[] }): Buffer {
  const spki = opts.publicKey.export({ type: 'spki', format: 'der' });
  return seq(tlv(0x02, Buffer.from([0])), name(opts.subject), spki, attributes(opts.dnsNames ?? [], opts.ips ?? []));
}

/** A PEM PKCS#10 request signed with ECDSA-SHA256. */
export function createCsr(opts: { subject: CsrSubject; keys: KeyPair; dnsNames?: string[]; ips?: string[] }): string {
  const info = requestInfo({ subject: opts.subject, publicKey: opts.keys.publicKey, dnsNames: opts.dnsNames, ips: opts.ips });
  const signature = sign('sha256', info, opts.keys.privateKey); // DER ECDSA-Sig-Value, as X.509 wants it
  const der = seq(info, seq(OID.ecdsaWithSha256), tlv(0x03, Buffer.from([0]), signature));
  return toPem(der, 'CERTIFICATE REQUEST');
}

export interface CertFacts {
  cn: string;
  notAfter: Date;
  /** The subjectAltName IP addresses, in canonical text form (see canonicalIp). */
  ips: string[];
}

/** An IP address in one text form (IPv6 compressed, lower case), so that addresses from anywhere compare equal. */
export function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** The facts join.ts checks before reusing a certificate. */
export function certFacts(pem: string): CertFacts {
  const cert = new X509Certificate(pem);
  let cn = '';
  for (const line of cert.subject.split('\n')) if (line.startsWith('CN=')) cn = line.slice(3);
  const ips: string[] = [];
  for (const entry of (cert.subjectAltName ?? '').split(', ')) if (entry.startsWith('IP Address:')) ips.push(canonicalIp(entry.slice('IP Address:'.length)));
  return { cn, notAfter: cert.validToDate, ips };
}

export { isSignedBy } from '../../server/pki/verify.ts';
