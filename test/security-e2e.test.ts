// The real kubectl over HTTPS with full TLS verification against the in-process secure API server.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { core } from '../lib/client/types.ts';
import { httpsRequest } from '../lib/server/pki/https-request.ts';
import { readKubeconfig, writeKubeconfig } from '../lib/server/pki/kubeconfig.ts';
import { restClient } from '../lib/server/pki/kube-rest.ts';
import { enableEncryption } from '../lib/server/encryption/config.ts';
import { createBootstrapToken, deleteBootstrapToken, listBootstrapTokens } from '../lib/server/join/bootstrap-tokens.ts';
import { haveKubectl, startSecureApi } from './secure-api.ts';
import { caHash } from '../lib/server/join/token.ts';
import { joinCluster } from '../lib/agent/join/join.ts';
import { HttpsClient } from '../lib/client/https.ts';
import { generateKeyPair, privateKeyToPem, signLeaf } from '../lib/server/pki/x509.ts';

const { dir, store, kubeconfig, srv, kubectlAs: kubectl, manifest } = await startSecureApi(t, 'tsk-sec-e2e-', (dataDir) => enableEncryption(dataDir));

// Without the real kubectl the kubectl parts are skipped, loudly.
const needsKubectl = { skip: haveKubectl ? false : 'kubectl not found on PATH' };

async function userKubeconfig(name: string, cn: string, o: string[] = []): Promise<string> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const cert = await signLeaf({ subject: { cn, o }, publicKey: keys.publicKey, caCertPem: srv.certs.clientCaPem, caKey: srv.certs.clientCaKey.privateKey, usage: 'client', notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000) });
  const path = join(dir, `${name}.yaml`);
  writeKubeconfig({ path, server: srv.url, caPem: srv.certs.serverCaPem, certPem: cert, keyPem: await privateKeyToPem(keys.privateKey) });
  return path;
}

function tokenKubeconfig(name: string, token: string): string {
  const path = join(dir, `${name}.yaml`);
  const b64 = Buffer.from(srv.certs.serverCaPem).toString('base64');
  writeFileSync(path, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
    clusters: [{ name: 'c', cluster: { server: srv.url, 'certificate-authority-data': b64 } }],
    users: [{ name: 'u', user: { token } }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
  }), { mode: 0o600 });
  return path;
}

async function eventually(what: string, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('anonymous requests', async (t) => {
  const anon = await httpsRequest({ url: `${srv.url}/api/v1/namespaces/default/pods`, ca: srv.certs.serverCaPem });
  t.equal(anon.status, 401);
  t.match(anon.json(), { kind: 'Status', reason: 'Unauthorized', code: 401 });
  t.ok(srv.localNode && existsSync(join(dir, 'data', 'agent', 'serving-kubelet.crt')), 'the server node has kubelet certificates');
  for (const p of ['/version', '/healthz', '/cacerts', '/readyz', '/livez', '/ping']) t.equal((await httpsRequest({ url: `${srv.url}${p}`, ca: srv.certs.serverCaPem })).status, 200, p);
  t.equal((await httpsRequest({ url: `${srv.url}/cacerts`, ca: srv.certs.serverCaPem })).text(), srv.certs.serverCaPem);
  const bad = await httpsRequest({ url: `${srv.url}/api`, ca: srv.certs.serverCaPem, headers: { authorization: 'Bearer nonsense' } });
  t.equal(bad.status, 401);
});

t.test('admin kubeconfig with full TLS verification', needsKubectl, async (t) => {
  const r = await kubectl(kubeconfig, 'get', 'namespaces', '-o', 'name');
  t.equal(r.code, 0, r.err);
  t.match(r.out, /namespace\/kube-system/);
  const who = await kubectl(kubeconfig, 'auth', 'whoami', '-o', 'json');
  t.match(JSON.parse(who.out || '{}'), { status: { userInfo: { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] } } });
  t.equal((await kubectl(kubeconfig, 'auth', 'can-i', 'delete', 'nodes')).out.trim(), 'yes');
});

t.test('a user without bindings is forbidden, then RBAC grants', needsKubectl, async (t) => {
  const jane = await userKubeconfig('jane', 'jane', ['devs']);
  const denied = await kubectl(jane, 'get', 'pods', '-n', 'default');
  t.not(denied.code, 0);
  t.match(denied.err, 'Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"');
  const deploys = await kubectl(jane, 'get', 'deployments', '-n', 'kube-system');
  t.match(deploys.err, 'deployments.apps is forbidden: User "jane" cannot list resource "deployments" in API group "apps" in the namespace "kube-system"');
  const nodes = await kubectl(jane, 'get', 'nodes');
  t.match(nodes.err, 'nodes is forbidden: User "jane" cannot list resource "nodes" in API group "" at the cluster scope');
  const no = await kubectl(jane, 'auth', 'can-i', 'list', 'pods', '-n', 'default');
  t.equal(no.out.trim(), 'no');
  const rb = manifest('rb-jane', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'devs-view', namespace: 'default' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'devs' }] });
  const created = await kubectl(kubeconfig, 'create', '--validate=false', '-f', rb);
  t.equal(created.code, 0, created.err);
  await eventually('jane can list pods', async () => (await kubectl(jane, 'auth', 'can-i', 'list', 'pods', '-n', 'default')).out.trim() === 'yes');
  t.equal((await kubectl(jane, 'get', 'pods', '-n', 'default')).code, 0);
  t.equal((await kubectl(jane, 'auth', 'can-i', 'create', 'pods', '-n', 'default')).out.trim(), 'no');
  t.equal((await kubectl(jane, 'auth', 'can-i', 'list', 'pods', '-n', 'kube-system')).out.trim(), 'no');
  t.equal((await kubectl(kubeconfig, 'auth', 'can-i', 'list', 'pods', '-n', 'default', '--as', 'someone', '--as-group', 'devs')).out.trim(), 'yes', 'admin impersonates');
  const noImp = await kubectl(jane, 'get', 'pods', '--as', 'system:admin');
  t.match(noImp.err, 'users "system:admin" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope');
  const list = await kubectl(jane, 'auth', 'can-i', '--list', '-n', 'default');
  t.match(list.out, /pods\/log/);
  const secretsDenied = await kubectl(jane, 'get', 'secret', 'x', '-n', 'default');
  t.match(secretsDenied.err, 'secrets "x" is forbidden: User "jane" cannot get resource "secrets" in API group "" in the namespace "default"');
});

t.test('ServiceAccount token from kubectl create token', needsKubectl, async (t) => {
  const sa = manifest('sa', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' } });
  t.equal((await kubectl(kubeconfig, 'create', '--validate=false', '-f', sa)).code, 0);
  const tok = await kubectl(kubeconfig, 'create', 'token', 'robot', '-n', 'default', '--duration', '20m');
  t.equal(tok.code, 0, tok.err);
  const inProcess = await srv.client.createSubresource(core('serviceaccounts'), 'robot', 'token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: {} }, 'default');
  t.match(inProcess.status?.token, /^ey/, 'in-process TokenRequest (the server node\'s kubelet)');
  const robot = tokenKubeconfig('robot', tok.out.trim());
  const denied = await kubectl(robot, 'get', 'configmaps', '-n', 'default');
  t.match(denied.err, 'configmaps is forbidden: User "system:serviceaccount:default:robot" cannot list resource "configmaps" in API group "" in the namespace "default"');
  const rb = manifest('rb-robot', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'robot-edit', namespace: 'default' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace: 'default' }] });
  t.equal((await kubectl(kubeconfig, 'create', '--validate=false', '-f', rb)).code, 0);
  await eventually('robot can list configmaps', async () => (await kubectl(robot, 'get', 'configmaps', '-n', 'default')).code === 0);
  t.equal((await kubectl(robot, 'auth', 'can-i', 'create', 'deployments.apps', '-n', 'default')).out.trim(), 'yes');
  const jwks = await httpsRequest({ url: `${srv.url}/openid/v1/jwks`, ca: srv.certs.serverCaPem, headers: { authorization: `Bearer ${tok.out.trim()}` } });
  t.equal(jwks.status, 200, 'service accounts may read the issuer keys');
  t.match(jwks.json(), { keys: [{ kty: 'EC', crv: 'P-256', alg: 'ES256' }] });
  t.equal((await kubectl(kubeconfig, 'delete', 'serviceaccount', 'robot', '-n', 'default')).code, 0);
  const gone = await kubectl(robot, 'get', 'configmaps', '-n', 'default');
  t.match(gone.err, /Unauthorized/, 'token of a deleted ServiceAccount is refused');
});

t.test('node authorizer limits a kubelet', needsKubectl, async (t) => {
  const c = srv.client;
  for (const n of ['n1', 'n2']) await c.create(core('nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: n } });
  for (const s of ['mine', 'theirs']) await c.create(core('secrets'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: s, namespace: 'default' }, data: { k: 'dg==' } }, 'default');
  await c.create(core('pods'), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 's', secret: { secretName: 'mine' } }] },
  }, 'default');
  const n1 = await userKubeconfig('n1', 'system:node:n1', ['system:nodes']);
  t.equal((await kubectl(n1, 'get', 'secret', 'mine', '-n', 'default')).code, 0);
  const other = await kubectl(n1, 'get', 'secret', 'theirs', '-n', 'default');
  t.match(other.err, `secrets "theirs" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'n1' and this object`);
  t.equal((await kubectl(n1, 'get', 'nodes')).code, 0);
  const n1Creds = readKubeconfig(n1);
  const tokenFor = (body: object) => httpsRequest({ url: `${srv.url}/api/v1/namespaces/default/serviceaccounts/default/token`, method: 'POST', ca: n1Creds.caPem, cert: n1Creds.certPem, key: n1Creds.keyPem, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await c.create(core('serviceaccounts'), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'default' } }, 'default').catch(() => undefined);
  const bound = await tokenFor({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p1' } } });
  t.equal(bound.status, 201, bound.text());
  const unbound = await tokenFor({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
  t.equal(unbound.status, 403);
  t.match(unbound.json(), { message: 'serviceaccounts "default" is forbidden: node requested token not bound to a pod' });
  t.equal((await kubectl(n1, 'get', 'pods', '-A')).code, 0);
  t.equal((await kubectl(n1, 'label', 'node', 'n1', 'a=b')).code, 0, 'own node');
  const foreign = await kubectl(n1, 'label', 'node', 'n2', 'a=b');
  t.match(foreign.err, 'node "n1" is not allowed to modify node "n2"');
  const ns = await kubectl(n1, 'delete', 'namespace', 'default');
  t.match(ns.err, /Forbidden/);
});

t.test('secrets are encrypted in the store', needsKubectl, async (t) => {
  const r = await kubectl(kubeconfig, 'create', 'secret', 'generic', 'pw', '-n', 'default', '--from-literal=password=hunter2');
  t.equal(r.code, 0, r.err);
  const raw = Buffer.from((await store.get('/registry/secrets/default/pw')).kv!.value).toString('latin1');
  t.match(raw, /^k8s:enc:aescbc:v1:/);
  t.notMatch(raw, /hunter2|aHVudGVyMg/);
  const back = await kubectl(kubeconfig, 'get', 'secret', 'pw', '-n', 'default', '-o', 'jsonpath={.data.password}');
  t.equal(Buffer.from(back.out, 'base64').toString(), 'hunter2');
});

t.test('agents join over the API server with the server token or a bootstrap token', needsKubectl, async (t) => {
  const viaSecret = await joinCluster({ server: srv.url, token: srv.token, dataDir: join(dir, 'agent1'), nodeName: 'edge-1', nodeIps: ['10.1.2.3'] });
  const who = await kubectl(viaSecret.kubeconfigPath, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}');
  t.equal(who.out, 'system:node:edge-1');
  await t.rejects(joinCluster({ server: srv.url, token: srv.token, dataDir: join(dir, 'impostor'), nodeName: 'edge-1' }), /node password rejected/);
  // The agent's own client with the joined credentials: registers its Node and Lease, may not touch others'.
  const agent = new HttpsClient({ server: srv.url, ca: viaSecret.caPem, cert: viaSecret.clientCert, key: viaSecret.clientKey });
  await agent.create(core('nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-1' } });
  const lease = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
  await agent.create(lease, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'edge-1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'edge-1', leaseDurationSeconds: 40 } }, 'kube-node-lease');
  await t.rejects(agent.create(lease, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'edge-9', namespace: 'kube-node-lease' }, spec: {} }, 'kube-node-lease'), { code: 403 });
  await t.rejects(agent.create(core('nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-9' } }), { code: 403 });
  // Deleting the Node frees its name for another machine.
  t.equal((await kubectl(kubeconfig, 'delete', 'node', 'edge-1')).code, 0);
  await eventually('the node password is removed', async () => (await srv.client.list(core('secrets'), { namespace: 'kube-system' })).items.every((x) => x.metadata.name !== 'edge-1.node-password.tsk'));
  const newMachine = await joinCluster({ server: srv.url, token: srv.token, dataDir: join(dir, 'impostor'), nodeName: 'edge-1' });
  t.ok(newMachine.clientCert);

  const admin = restClient(readKubeconfig(kubeconfig));
  const bt = await createBootstrapToken(admin, { ttlMs: 3_600_000, description: 'e2e' });
  t.match((await listBootstrapTokens(admin)).map((x) => x.id), [bt.id]);
  const viaBootstrap = await joinCluster({ server: srv.url, token: `K10${caHash(srv.certs.serverCaPem)}::${bt.id}.${bt.secret}`, dataDir: join(dir, 'agent2'), nodeName: 'edge-2' });
  t.equal((await kubectl(viaBootstrap.kubeconfigPath, 'get', 'nodes')).code, 0);
  const asBearer = await httpsRequest({ url: `${srv.url}/api/v1/namespaces`, ca: srv.certs.serverCaPem, headers: { authorization: `Bearer ${bt.id}.${bt.secret}` } });
  t.equal(asBearer.status, 401, 'bootstrap tokens do not work on the API itself');
  await deleteBootstrapToken(admin, bt.id);
  t.same((await listBootstrapTokens(admin)).filter((x) => x.id === bt.id), []);
  await t.rejects(joinCluster({ server: srv.url, token: `${bt.id}.${bt.secret}`, dataDir: join(dir, 'agent3'), nodeName: 'edge-3' }), /refused the token/);
});

t.test('tsk token create/list against the running server', async (t) => {
  writeFileSync(join(dir, 'none.yaml'), '{}\n');
  const tsk = (...args: string[]) => new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(process.execPath, [join(import.meta.dirname, '..', 'cmd', 'tsk.ts'), ...args], { timeout: 60_000, env: { ...process.env, TSK_CONFIG_FILE: join(dir, 'none.yaml') } }, (e, out, err) => {
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: String(out), err: String(err) });
    });
  });
  const created = await tsk('token', 'create', '--kubeconfig', kubeconfig, '--ttl', '2h', '--description', 'cli');
  t.equal(created.code, 0, created.err);
  const m = /^K10([0-9a-f]{64})::([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(created.out.trim());
  t.ok(m, created.out);
  t.equal(m?.[1], caHash(srv.certs.serverCaPem));
  const listed = await tsk('token', 'list', '--kubeconfig', kubeconfig);
  t.match(listed.out, new RegExp(`${m?.[2]}\\.<secret>\\s+\\d+h`));
  t.match(listed.out, /cli/);
  await deleteBootstrapToken(restClient(readKubeconfig(kubeconfig)), m?.[2] ?? '');
  t.same((await listBootstrapTokens(restClient(readKubeconfig(kubeconfig)))).filter((x) => x.id === m?.[2]), []);
});

t.test('upgrade requests (exec, port-forward) are checked by security.checkUpgrade', async (t) => {
  const onUpgrade = async (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex) => {
    const r = await srv.security.checkUpgrade(req);
    const body = JSON.stringify('user' in r ? { user: r.user.username } : r.status);
    socket.end(`HTTP/1.1 ${'user' in r ? 200 : r.status.code} X\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  };
  srv.httpServer.on('upgrade', onUpgrade);
  t.teardown(() => { srv.httpServer.off('upgrade', onUpgrade); });
  const { request } = await import('node:https');
  const upgrade = (creds: { cert?: string; key?: string }) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const u = new URL(`${srv.url}/api/v1/namespaces/default/pods/p1/exec?command=sh`);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, ca: srv.certs.serverCaPem, ...creds, headers: { connection: 'Upgrade', upgrade: 'websocket' }, agent: false });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', (res, sock) => { sock.destroy(); resolve({ status: res.statusCode ?? 0, body: '' }); });
    req.on('error', reject);
    req.end();
  });
  const anon = await upgrade({});
  t.equal(anon.status, 401);
  const admin = readKubeconfig(kubeconfig);
  const ok = await upgrade({ cert: admin.certPem, key: admin.keyPem });
  t.equal(ok.status, 200);
  t.same(JSON.parse(ok.body), { user: 'system:admin' });
  const janeCfg = readKubeconfig(await userKubeconfig('jane-exec', 'jane', ['devs']));
  const denied = await upgrade({ cert: janeCfg.certPem, key: janeCfg.keyPem });
  t.equal(denied.status, 403);
  t.match(JSON.parse(denied.body).message, 'pods "p1" is forbidden: User "jane" cannot get resource "pods/exec" in API group "" in the namespace "default"');

  // A WebSocket upgrade (GET) also needs create on pods/exec, as in Kubernetes 1.31+.
  const ivanCfg = readKubeconfig(await userKubeconfig('ivan-exec', 'ivan'));
  const ivan = { cert: ivanCfg.certPem, key: ivanCfg.keyPem };
  for (const args of [['create', 'role', 'exec-get', '--verb=get', '--resource=pods/exec'], ['create', 'rolebinding', 'ivan-exec-get', '--role=exec-get', '--user=ivan']]) {
    const r = await kubectl(kubeconfig, ...args, '-n', 'default');
    t.equal(r.code, 0, r.err);
  }
  let getOnly = { status: 0, body: '' };
  await eventually('get alone is not enough', async () => (getOnly = await upgrade(ivan)).status === 403 && /cannot create/.test(getOnly.body));
  t.match(JSON.parse(getOnly.body).message, 'pods "p1" is forbidden: User "ivan" cannot create resource "pods/exec" in API group "" in the namespace "default"');
  for (const args of [['create', 'role', 'exec-create', '--verb=create', '--resource=pods/exec'], ['create', 'rolebinding', 'ivan-exec-create', '--role=exec-create', '--user=ivan']]) {
    const r = await kubectl(kubeconfig, ...args, '-n', 'default');
    t.equal(r.code, 0, r.err);
  }
  await eventually('get + create allow the upgrade', async () => (await upgrade(ivan)).status === 200);
});
