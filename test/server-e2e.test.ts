// The whole server end to end, as a user runs it: the single executable built from this checkout, `tsk server`
// inside a network namespace with its own containerd, driven by the real kubectl.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { certFacts, createCsr, generateKeyPair } from '../lib/agent/join/csr.ts';
import { kc, kubectl, root, startNetnsServer, startServer, tempDir, useBinary, waitFor } from './harness.ts';

t.test('tsk server runs pods, services and DNS, and keeps its state through kill -9', async (t) => {
  const work = tempDir(t, 'tsk-server-e2e-');
  const exe = join(work, 'tsk');
  execFileSync(join(root, 'node_modules/node/bin/node'), [join(root, 'scripts/build-binary.ts'), '--out', exe], { stdio: 'pipe', timeout: 300_000 });
  useBinary(exe);
  t.teardown(() => useBinary(undefined));
  t.match(execFileSync(exe, ['version'], { encoding: 'utf8' }), /kubernetes v1\.32\.4/);

  const { server: first, dataDir, options } = await startNetnsServer(t, { work, nodeName: 'e2e-server', args: ['--secrets-encryption'] });
  let server = first;
  t.match(kc(server, ['get', 'nodes', '-o', 'wide']), /e2e-server\s+Ready\s+control-plane/);

  kc(server, ['create', 'deployment', 'web', '--image=busybox:latest', '--replicas=2', '--', 'sh', '-c', 'echo hello-from-web > /tmp/index.html && exec httpd -f -p 8080 -h /tmp']);
  kc(server, ['expose', 'deployment', 'web', '--port=80', '--target-port=8080']);
  t.match(kc(server, ['rollout', 'status', 'deployment/web', '--timeout=120s']), /successfully rolled out/);
  const ips = kc(server, ['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}']).trim().split(/\s+/);
  t.equal(ips.length, 2);
  for (const ip of ips) t.match(ip, /^10\.42\.0\.\d+$/);
  await waitFor('endpoints', () => kc(server, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[*].endpoints[*].addresses[*]}']).trim().split(/\s+/).length === 2);

  // A client pod reaches the service by its DNS name through the proxy's rules.
  kc(server, ['run', 'client', '--image=busybox:latest', '--restart=Never', '--', 'sh', '-c', 'wget -qO- http://web.default.svc.cluster.local/ | grep -q hello-from-web']);
  const phase = await waitFor('client pod finished', () => {
    const p = kubectl(server, ['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}']).stdout;
    return p === 'Succeeded' || p === 'Failed' ? p : '';
  }, 90_000);
  t.equal(phase, 'Succeeded', 'service name resolves and the ClusterIP answers from a pod');

  // kubectl proxy and cluster-info's links: the API server forwards services/NAME:PORT/proxy to a ready endpoint.
  t.match(kc(server, ['get', '--raw', '/api/v1/namespaces/default/services/web:80/proxy/index.html']), /hello-from-web/);

  // A user certificate through a CertificateSigningRequest: create, kubectl certificate approve, issued by the client CA.
  const request = Buffer.from(createCsr({ subject: { cn: 'jane', o: ['dev'] }, keys: await generateKeyPair() })).toString('base64');
  kc(server, ['create', '-f', '-'], JSON.stringify({
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'jane' },
    spec: { request, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 3600 },
  }));
  kc(server, ['certificate', 'approve', 'jane']);
  const issued = await waitFor('csr issued', () => kc(server, ['get', 'csr', 'jane', '-o', 'jsonpath={.status.certificate}']));
  t.equal(certFacts(Buffer.from(issued, 'base64').toString()).cn, 'jane');
  t.match(kc(server, ['get', 'csr', 'jane']), /jane\s+\S+\s+kubernetes\.io\/kube-apiserver-client\s+system:admin\s+1h\s+Approved,Issued/);

  // --secrets-encryption: the value is AES-GCM ciphertext in the SQLite files, and reads back in clear.
  kc(server, ['create', 'secret', 'generic', 'pw', '--from-literal=password=plain-text-needle-42']);
  const dbBytes = () => ['state.db', 'state.db-wal'].map((f) => { try { return readFileSync(join(dataDir, 'server/db', f)); } catch { return Buffer.alloc(0); } });
  t.notOk(dbBytes().some((b) => b.includes('plain-text-needle-42')), 'the secret value is not in plaintext in the database');
  t.ok(dbBytes().some((b) => b.includes('k8s:enc:aesgcm:v1:')), 'secrets are stored with the aesgcm provider');
  t.equal(Buffer.from(kc(server, ['get', 'secret', 'pw', '-o', 'jsonpath={.data.password}']), 'base64').toString(), 'plain-text-needle-42');

  // The store survives kill -9: objects are still there after a restart, pods keep running.
  const rvBefore = kc(server, ['get', 'deployment', 'web', '-o', 'jsonpath={.metadata.uid}']);
  await server.kill9();
  server = await startServer(t, options);
  t.equal(kc(server, ['get', 'deployment', 'web', '-o', 'jsonpath={.metadata.uid}']), rvBefore);
  t.equal(Buffer.from(kc(server, ['get', 'secret', 'pw', '-o', 'jsonpath={.data.password}']), 'base64').toString(), 'plain-text-needle-42', 'the encrypted secret reads back after a restart');
  t.match(kc(server, ['rollout', 'status', 'deployment/web', '--timeout=120s']), /successfully rolled out/);
  t.equal(kc(server, ['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}']).trim().split(/\s+/).sort().join(), [...ips].sort().join(), 'the same pods keep running');
});
