import t from 'tap';
import { webcrypto } from 'node:crypto';
import { createCa, generateKeyPair, certInfo } from './x509.ts'; // first: it loads reflect-metadata for @peculiar/x509
import * as x509 from '@peculiar/x509';
import { signCsr, signerRefusal } from './csr-sign.ts';

async function request(cn: string, o: string[] = [], sans: x509.JsonGeneralName[] = [], rsa = false): Promise<string> {
  const alg = rsa ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [cn] }, ...o.map((x) => ({ O: [x] }))], keys: keys as never, signingAlgorithm: alg,
    extensions: sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  });
  return csr.toString('pem');
}

t.test('signs client and kubelet-serving requests with the right CA, refuses what the signer forbids', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const mk = async (cn: string) => { const key = await generateKeyPair(); return { pem: await createCa({ cn, keys: key, notBefore: new Date(now - 1000), notAfter: new Date(now + 1e10) }), key }; };
  const server = await mk('tsk-server-ca'), client = await mk('tsk-client-ca');
  const cas = { serverCaPem: server.pem, serverCaKey: server.key, clientCaPem: client.pem, clientCaKey: client.key };

  const r1 = await signCsr(cas, { request: await request('jane', ['dev'], [], true), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 3600 }, now);
  t.ok(r1 && 'certificate' in r1);
  const c1 = certInfo((r1 as { certificate: string }).certificate);
  t.same(c1.subject, { cn: 'jane', o: ['dev'] });
  t.equal(c1.issuerCn, 'tsk-client-ca');
  t.equal(c1.notAfter.getTime(), now + 3600_000);

  const r2 = await signCsr(cas, { request: await request('system:node:n1', ['system:nodes'], [{ type: 'dns', value: 'n1' }, { type: 'ip', value: '10.0.0.5' }]), signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'] }, now);
  const c2 = certInfo((r2 as { certificate: string }).certificate);
  t.equal(c2.issuerCn, 'tsk-server-ca');
  t.same([c2.dnsNames, c2.ips], [['n1'], ['10.0.0.5']]);

  t.same(await signCsr(cas, { request: await request('jane'), signerName: 'kubernetes.io/kubelet-serving', usages: ['server auth'] }, now), { failed: 'subject must be CN=system:node:<name>, O=system:nodes' });
  t.same(await signCsr(cas, { request: await request('jane'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['server auth'] }, now), { failed: 'invalid usage for client certificate: server auth' });
  t.match(await signCsr(cas, { request: 'garbage', signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] }, now), { failed: /^unable to parse csr: / });
  t.equal(await signCsr(cas, { request: await request('x'), signerName: 'example.com/other', usages: ['client auth'] }, now), undefined);
});

t.test('signerRefusal', async (t) => {
  t.equal(signerRefusal('kubernetes.io/kube-apiserver-client', { cn: 'a' }, ['digital signature', 'key encipherment'], { dns: 0, other: 0 }), 'missing required usage: client auth');
  t.equal(signerRefusal('kubernetes.io/kube-apiserver-client-kubelet', { cn: 'system:node:a', o: ['system:nodes'] }, ['client auth'], { dns: 1, other: 0 }), 'subjectAltNames are not allowed');
  t.equal(signerRefusal('kubernetes.io/kube-apiserver-client-kubelet', { cn: 'system:node:a', o: ['system:nodes'] }, ['client auth'], { dns: 0, other: 0 }), undefined);
});
