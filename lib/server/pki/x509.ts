// The one adapter over @peculiar/x509 and WebCrypto: ECDSA P-256 keys, CAs, leaf certificates, CSRs, PEM.
import 'reflect-metadata'; // @peculiar/x509 (through tsyringe) needs the Reflect metadata API loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
const crypto = webcrypto;
x509.cryptoProvider.set(crypto as never);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export interface Subject {
  cn: string;
  o?: string[];
}

export interface CertInfo {
  subject: Subject;
  issuerCn: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  ips: string[];
  isCa: boolean;
}

export async function generateKeyPair(): Promise<KeyPair> {
  return (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as KeyPair;
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function publicKeyToPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('spki', key);
  return x509.PemConverter.encode(der, 'PUBLIC KEY');
}

/** Imports a PKCS#8 ECDSA P-256 private key and derives its public key. */
export async function keyPairFromPem(pem: string): Promise<KeyPair> {
  const der = x509.PemConverter.decodeFirst(pem);
  const privateKey = await crypto.subtle.importKey('pkcs8', der, EC, true, ['sign']);
  const jwk = await crypto.subtle.exportKey('jwk', privateKey);
  delete jwk.d;
  jwk.key_ops = ['verify'];
  const publicKey = await crypto.subtle.importKey('jwk', jwk, EC, true, ['verify']);
  return { privateKey, publicKey };
}

export async function publicKeyFromPem(pem: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('spki', x509.PemConverter.decodeFirst(pem), EC, true, ['verify']);
}

function jsonName(s: Subject): x509.JsonName {
  const name: x509.JsonName = [];
  for (const o of s.o ?? []) name.push({ O: [o] });
  name.push({ CN: [s.cn] });
  return name;
}

export async function createCa(opts: { cn: string; keys: KeyPair; notBefore: Date; notAfter: Date }): Promise<string> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: jsonName({ cn: opts.cn }),
    keys: opts.keys,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(opts.keys.publicKey),
    ],
  });
  return cert.toString('pem');
}

export interface LeafOptions {
  subject: Subject;
  publicKey: CryptoKey;
  caCertPem: string;
  caKey: CryptoKey;
  usage: 'server' | 'client' | 'both';
  dnsNames?: string[];
  ips?: string[];
  notBefore: Date;
  notAfter: Date;
}

export async function signLeaf(opts: LeafOptions): Promise<string> {
  const ca = new x509.X509Certificate(opts.caCertPem);
  const eku = opts.usage === 'server' ? [x509.ExtendedKeyUsage.serverAuth] : opts.usage === 'client' ? [x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(eku),
    await x509.AuthorityKeyIdentifierExtension.create(ca),
  ];
  const names: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((v) => ({ type: 'dns' as const, value: v })),
    ...(opts.ips ?? []).map((v) => ({ type: 'ip' as const, value: v })),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const cert = await x509.X509CertificateGenerator.create({
    subject: jsonName(opts.subject),
    issuer: ca.subjectName,
    publicKey: opts.publicKey,
    signingKey: opts.caKey,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    signingAlgorithm: SIGN,
    extensions,
  });
  return cert.toString('pem');
}

function readName(name: x509.Name): Subject {
  const json = name.toJSON();
  let cn = '';
  const o: string[] = [];
  for (const rdn of json) {
    for (const v of rdn.CN ?? []) cn = v;
    for (const v of rdn.O ?? []) o.push(v);
  }
  return { cn, o };
}

export function certInfo(pem: string): CertInfo {
  const cert = new x509.X509Certificate(pem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const dnsNames: string[] = [];
  const ips: string[] = [];
  for (const n of san?.names.items ?? []) {
    if (n.type === 'dns') dnsNames.push(n.value);
    if (n.type === 'ip') ips.push(n.value);
  }
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  return {
    subject: readName(cert.subjectName),
    issuerCn: readName(cert.issuerName).cn,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    dnsNames,
    ips,
    isCa: bc?.ca ?? false,
  };
}

export { isSignedBy } from './verify.ts';

export async function createCsr(opts: { subject: Subject; keys: KeyPair; dnsNames?: string[]; ips?: string[] }): Promise<string> {
  const names: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((v) => ({ type: 'dns' as const, value: v })),
    ...(opts.ips ?? []).map((v) => ({ type: 'ip' as const, value: v })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: jsonName(opts.subject),
    keys: opts.keys,
    signingAlgorithm: SIGN,
    extensions: names.length ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  return csr.toString('pem');
}

export interface CsrInfo {
  subject: Subject;
  publicKey: CryptoKey;
  dnsNames: string[];
  ips: string[];
}

/** Parses and verifies a PEM CSR's self-signature; throws when invalid. */
export async function readCsr(pem: string): Promise<CsrInfo> {
  const csr = new x509.Pkcs10CertificateRequest(pem);
  if (!(await csr.verify())) throw new Error('certificate request signature is invalid');
  const raw = csr.getExtension('2.5.29.17');
  const san = raw ? new x509.SubjectAlternativeNameExtension(raw.rawData) : undefined;
  const dnsNames: string[] = [];
  const ips: string[] = [];
  for (const n of san?.names.items ?? []) {
    if (n.type === 'dns') dnsNames.push(n.value);
    if (n.type === 'ip') ips.push(n.value);
  }
  const publicKey = await csr.publicKey.export(EC, ['verify']);
  return { subject: readName(csr.subjectName), publicKey, dnsNames, ips };
}

/**
 * A CSR of any key type (RSA or EC, as `openssl req` makes them) for the CSR signer: subject, public key, SANs, and
 * how many SANs are neither DNS names nor IPs. Throws when it does not parse or its signature is wrong.
 */
export async function parseCsr(pem: string): Promise<CsrInfo & { otherSans: number }> {
  const csr = new x509.Pkcs10CertificateRequest(pem);
  if (!(await csr.verify())) throw new Error('certificate request signature is invalid');
  const raw = csr.getExtension('2.5.29.17');
  const names = raw ? new x509.SubjectAlternativeNameExtension(raw.rawData).names.items : [];
  const dnsNames = names.filter((n) => n.type === 'dns').map((n) => n.value);
  const ips = names.filter((n) => n.type === 'ip').map((n) => n.value);
  return { subject: readName(csr.subjectName), publicKey: await csr.publicKey.export(), dnsNames, ips, otherSans: names.length - dnsNames.length - ips.length };
}

/** ES256 signature (raw r||s, as JWS wants). */
export async function signEs256(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign(SIGN, key, data));
}

export async function verifyEs256(key: CryptoKey, sig: Uint8Array, data: Uint8Array): Promise<boolean> {
  return crypto.subtle.verify(SIGN, key, sig, data);
}

export async function exportPublicJwk(key: CryptoKey): Promise<{ kty?: string; crv?: string; x?: string; y?: string }> {
  return crypto.subtle.exportKey('jwk', key);
}
