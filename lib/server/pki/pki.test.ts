import t from 'tap';
import { readFileSync, statSync } from 'node:fs';
import { request, createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ensureCertificates, rotateCertificates, servingTlsOptions, tlsDir } from './certificates.ts';
import { readKubeconfig, writeKubeconfig } from './kubeconfig.ts';
import { certInfo, createCsr, generateKeyPair, isSignedBy, readCsr } from './x509.ts';
import { tempDir, type Teardown } from '../../test-fixture.ts';

const DAY = 24 * 3600 * 1000;

const tmp = (t: Teardown) => tempDir(t, 'tsk-pki-');

t.test('ensureCertificates generates the k3s layout with the right names', async (t) => {
  const dataDir = tmp(t);
  const started = Date.now();
  const c = await ensureCertificates({ dataDir, nodeName: 'node-a', nodeIps: ['192.168.1.5'], tlsSans: ['api.example.com', '10.0.0.9'] });
  t.ok(Date.now() - started < 5000, 'fast');
  for (const f of ['server-ca.crt', 'server-ca.key', 'client-ca.crt', 'client-ca.key', 'serving-kube-apiserver.crt', 'serving-kube-apiserver.key', 'client-admin.crt', 'client-admin.key', 'service.key']) {
    t.ok(statSync(join(tlsDir(dataDir), f)).isFile(), f);
  }
  t.equal(statSync(join(tlsDir(dataDir), 'server-ca.key')).mode & 0o777, 0o600);
  const ca = certInfo(c.serverCaPem);
  t.ok(ca.isCa);
  t.ok(ca.notAfter.getTime() - Date.now() > 3600 * DAY);
  const serving = certInfo(c.servingCertPem);
  for (const n of ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'node-a', 'api.example.com']) t.ok(serving.dnsNames.includes(n), n);
  for (const ip of ['127.0.0.1', '::1', '10.43.0.1', '192.168.1.5', '10.0.0.9']) t.ok(serving.ips.includes(ip), ip);
  t.ok(isSignedBy(c.servingCertPem, c.serverCaPem));
  t.notOk(isSignedBy(c.servingCertPem, c.clientCaPem));
  const admin = certInfo(c.adminCertPem);
  t.same(admin.subject, { cn: 'system:admin', o: ['system:masters'] });
  t.ok(isSignedBy(c.adminCertPem, c.clientCaPem));
  t.ok(Math.abs(admin.notAfter.getTime() - Date.now() - 365 * DAY) < 2 * DAY);

  const again = await ensureCertificates({ dataDir, nodeName: 'node-a', nodeIps: ['192.168.1.5'], tlsSans: ['api.example.com', '10.0.0.9'] });
  t.equal(again.servingCertPem, c.servingCertPem, 'reused');
  t.equal(again.adminCertPem, c.adminCertPem);

  const moreSans = await ensureCertificates({ dataDir, nodeName: 'node-a', nodeIps: ['192.168.1.6'] });
  t.not(moreSans.servingCertPem, c.servingCertPem, 'new node IP re-issues the serving certificate');
  t.ok(certInfo(moreSans.servingCertPem).ips.includes('192.168.1.6'));
  t.equal(moreSans.serverCaPem, c.serverCaPem, 'CA kept');

  const later = await ensureCertificates({ dataDir, nodeName: 'node-a', nodeIps: ['192.168.1.6'], now: Date.now() + 300 * DAY });
  t.not(later.adminCertPem, c.adminCertPem, 'renewed within 90 days of expiry');
  t.equal(later.serverCaPem, c.serverCaPem);
  t.equal(later.clientCaPem, c.clientCaPem);

  const rotated = await rotateCertificates({ dataDir, nodeName: 'node-a', nodeIps: ['192.168.1.6'] });
  t.not(rotated.adminCertPem, later.adminCertPem);
  t.equal(rotated.serviceAccountPublicPem, c.serviceAccountPublicPem, 'service-account key stays');
});

t.test('CSRs round-trip', async (t) => {
  const keys = await generateKeyPair();
  const pem = await createCsr({ subject: { cn: 'system:node:n1', o: ['system:nodes'] }, keys, dnsNames: ['n1'], ips: ['10.1.1.1'] });
  const info = await readCsr(pem);
  t.same(info.subject, { cn: 'system:node:n1', o: ['system:nodes'] });
  t.same(info.dnsNames, ['n1']);
  t.same(info.ips, ['10.1.1.1']);
  await t.rejects(readCsr('garbage'));
});

t.test('TLS: kubeconfig credentials verify the server and authenticate the client', async (t) => {
  const dataDir = tmp(t);
  const c = await ensureCertificates({ dataDir, nodeName: 'n' });
  const server = createServer(servingTlsOptions(c), (req, res) => {
    const sock = req.socket as TLSSocket;
    const peer = sock.getPeerCertificate();
    res.end(JSON.stringify({ authorized: sock.authorized, cn: peer?.subject?.CN ?? null, o: peer?.subject?.O ?? null }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const kc = join(dataDir, 'kube', 'admin.yaml');
  writeKubeconfig({ path: kc, server: `https://127.0.0.1:${port}`, caPem: c.serverCaPem, certPem: c.adminCertPem, keyPem: c.adminKeyPem });
  t.equal(statSync(kc).mode & 0o777, 0o600);
  t.match(readFileSync(kc, 'utf8'), /current-context: default/);
  const creds = readKubeconfig(kc);
  const get = (opts: object) => new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', servername: 'localhost', ...opts }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
  const withCert = JSON.parse(await get({ ca: creds.caPem, cert: creds.certPem, key: creds.keyPem }));
  t.same(withCert, { authorized: true, cn: 'system:admin', o: 'system:masters' });
  const anon = JSON.parse(await get({ ca: creds.caPem }));
  t.equal(anon.authorized, false);
  await t.rejects(get({}), 'server not trusted without the CA');
});
