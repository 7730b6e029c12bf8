import t from 'tap';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { FakeClient } from '../../client/fake.ts';
import { ensureCertificates } from '../pki/certificates.ts';
import { servingTlsOptions } from '../pki/certificates.ts';
import { certInfo, isSignedBy } from '../pki/x509.ts';
import { joinCluster } from '../../agent/join/join.ts';
import { JoinService } from './join-service.ts';
import { ensureServerToken, formatToken, parseToken, tokenFile } from './token.ts';
import { tempDir, type Teardown } from '../../test-fixture.ts';

const tmp = (t: Teardown) => tempDir(t, 'tsk-join-');

async function serve(t: { teardown(fn: () => void): void }, tls: object, svc: JoinService, seen: string[]): Promise<string> {
  const server: Server = createServer(tls, async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    seen.push(`${req.method} ${req.url} auth=${req.headers.authorization ? 'yes' : 'no'}`);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const r = await svc.handle(new Request(`https://x${req.url}`, { method: req.method, headers, body }));
    res.writeHead(r.status, Object.fromEntries(r.headers));
    res.end(Buffer.from(await r.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

t.test('token file format', async (t) => {
  const dataDir = tmp(t);
  const ca = '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n';
  const a = ensureServerToken({ dataDir, caPem: ca });
  t.match(a.token, /^K10[0-9a-f]{64}::server:[0-9a-f]{32}$/);
  t.equal(readFileSync(tokenFile(dataDir), 'utf8').trim(), a.token);
  t.equal(statSync(tokenFile(dataDir)).mode & 0o777, 0o600);
  t.equal(ensureServerToken({ dataDir, caPem: ca }).secret, a.secret, 'stable across restarts');
  t.equal(ensureServerToken({ dataDir, caPem: ca, token: 'mysecret' }).token, formatToken(ca, 'mysecret'));
  t.throws(() => ensureServerToken({ dataDir, caPem: ca, token: `K10${'0'.repeat(64)}::server:x` }), /does not match/);
  t.same(parseToken('plain'), { secret: 'plain' });
  t.same(parseToken(`K10${'a'.repeat(64)}::server:s:with:colons`), { caHash: 'a'.repeat(64), username: 'server', secret: 's:with:colons' });
});

t.test('agent joins, reuses its certificates, and bad joins are refused', async (t) => {
  const serverDir = tmp(t);
  const certs = await ensureCertificates({ dataDir: serverDir, nodeName: 'srv' });
  const { token, secret } = ensureServerToken({ dataDir: serverDir, caPem: certs.serverCaPem });
  const client = new FakeClient();
  const svc = new JoinService({ certs, secret, client });
  const seen: string[] = [];
  const server = await serve(t, servingTlsOptions(certs), svc, seen);

  const agentDir = tmp(t);
  const r = await joinCluster({ server, token, dataDir: agentDir, nodeName: 'edge-1', nodeIps: ['10.9.8.7'] });
  t.same(certInfo(r.clientCert).subject, { cn: 'system:node:edge-1', o: ['system:nodes'] });
  t.ok(isSignedBy(r.clientCert, certs.clientCaPem));
  t.ok(isSignedBy(r.servingCert, certs.serverCaPem));
  t.ok(certInfo(r.servingCert).ips.includes('10.9.8.7'));
  t.ok(certInfo(r.servingCert).dnsNames.includes('edge-1'));
  for (const f of ['client-kubelet.crt', 'client-kubelet.key', 'serving-kubelet.crt', 'serving-kubelet.key', 'server-ca.crt', 'kubelet.kubeconfig', 'node-password']) t.ok(statSync(join(agentDir, 'agent', f)).isFile(), f);
  t.equal(statSync(join(agentDir, 'agent', 'node-password')).mode & 0o777, 0o600);
  const pwSecret = client.objects({ group: '', version: 'v1', resource: 'secrets' }).find((s) => s.metadata.name === 'edge-1.node-password.tsk');
  t.ok(pwSecret, 'password hash stored');
  const pw = readFileSync(join(agentDir, 'agent', 'node-password'), 'utf8').trim();
  t.notMatch(Buffer.from(pwSecret!.data.hash, 'base64').toString(), pw, 'only the hash is stored');

  const before = seen.length;
  const again = await joinCluster({ server, token, dataDir: agentDir, nodeName: 'edge-1', nodeIps: ['10.9.8.7'] });
  t.equal(again.clientCert, r.clientCert, 'reused');
  t.equal(seen.length, before, 'no request on reuse');

  const impostor = tmp(t);
  await t.rejects(joinCluster({ server, token, dataDir: impostor, nodeName: 'edge-1' }), /node password rejected/);

  // Same machine after losing its certificates: same password, accepted again.
  rmSync(join(agentDir, 'agent', 'client-kubelet.crt'));
  const rejoin = await joinCluster({ server, token, dataDir: agentDir, nodeName: 'edge-1', nodeIps: ['10.9.8.7'] });
  t.not(rejoin.clientCert, r.clientCert);

  seen.length = 0;
  await t.rejects(joinCluster({ server, token: formatToken(certs.serverCaPem, 'wrong'), dataDir: tmp(t), nodeName: 'edge-2' }), /refused the token/);
  seen.length = 0;
  const otherCa = `K10${'0'.repeat(64)}::server:${secret}`;
  await t.rejects(joinCluster({ server, token: otherCa, dataDir: tmp(t), nodeName: 'edge-3' }), /does not match the hash in the token/);
  t.same(seen, ['GET /cacerts auth=no'], 'a CA that fails the pin: no credential was sent');

  const bare = await joinCluster({ server, token: secret, dataDir: tmp(t), nodeName: 'edge-4' });
  t.ok(isSignedBy(bare.clientCert, certs.clientCaPem), 'bare secret accepted (with a warning)');

  // A bootstrap token works too.
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  client.seed({ group: '', version: 'v1', resource: 'secrets' }, { metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token', data: { 'token-id': b64('abcdef'), 'token-secret': b64('0123456789abcdef'), 'usage-bootstrap-authentication': b64('true') } });
  const viaBootstrap = await joinCluster({ server, token: formatToken(certs.serverCaPem, 'abcdef.0123456789abcdef', 'abcdef'), dataDir: tmp(t), nodeName: 'edge-5' });
  t.ok(isSignedBy(viaBootstrap.clientCert, certs.clientCaPem));
  writeFileSync(join(agentDir, 'unused'), '');
});

t.test('the server node gets local kubelet certificates without a network join', async (t) => {
  const { ensureLocalNodeCertificates } = await import('./local-node.ts');
  const dataDir = tmp(t);
  const certs = await ensureCertificates({ dataDir, nodeName: 'srv' });
  const a = await ensureLocalNodeCertificates({ dataDir, nodeName: 'srv', nodeIps: ['10.0.0.5'], server: 'https://127.0.0.1:6443', certs });
  t.same(certInfo(a.clientCert).subject, { cn: 'system:node:srv', o: ['system:nodes'] });
  t.ok(isSignedBy(a.clientCert, certs.clientCaPem));
  t.ok(isSignedBy(a.servingCert, certs.serverCaPem));
  t.ok(certInfo(a.servingCert).ips.includes('10.0.0.5'));
  const b = await ensureLocalNodeCertificates({ dataDir, nodeName: 'srv', nodeIps: ['10.0.0.5'], server: 'https://127.0.0.1:6443', certs });
  t.equal(b.clientCert, a.clientCert, 'reused');
  const c = await ensureLocalNodeCertificates({ dataDir, nodeName: 'srv', nodeIps: ['10.0.0.6'], server: 'https://127.0.0.1:6443', certs });
  t.not(c.servingCert, a.servingCert, 'new IP, new serving certificate');
  t.equal(c.clientCert, a.clientCert);
});

t.test('tsk token rotate: the server reads the new secret at once; old tokens stop joining', async (t) => {
  const { readServerSecret, rotateServerToken } = await import('./token.ts');
  const serverDir = tmp(t);
  const certs = await ensureCertificates({ dataDir: serverDir, nodeName: 'srv' });
  const old = ensureServerToken({ dataDir: serverDir, caPem: certs.serverCaPem });
  const svc = new JoinService({ certs, secret: () => readServerSecret(serverDir), client: new FakeClient() });
  const server = await serve(t, servingTlsOptions(certs), svc, []);
  const fresh = rotateServerToken({ dataDir: serverDir, caPem: certs.serverCaPem });
  t.not(fresh.secret, old.secret);
  await t.rejects(joinCluster({ server, token: old.token, dataDir: tmp(t), nodeName: 'a1' }), /refused the token/);
  const ok = await joinCluster({ server, token: fresh.token, dataDir: tmp(t), nodeName: 'a2' });
  t.ok(isSignedBy(ok.clientCert, certs.clientCaPem));
});
