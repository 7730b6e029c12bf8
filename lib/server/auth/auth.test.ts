import t from 'tap';
import type { KubeObject } from '../../client/types.ts';
import { generateKeyPair } from '../pki/x509.ts';
import { authenticateRequest, bootstrapTokenAuthenticator, x509Authenticator } from './authenticate.ts';
import { aggregateRules } from './aggregation.ts';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.ts';
import { NodeAuthorizer, nodeRestriction } from './node-authorizer.ts';
import { privilegedGroupAuthorizer, RbacAuthorizer, staticRbacSource, unionAuthorizer } from './rbac.ts';
import { requestAttributes } from './request-info.ts';
import { selfSubjectAccessReview, selfSubjectRulesReview } from './reviews.ts';
import { ServiceAccountTokens, type ObjectLookup } from './service-account-token.ts';
import { forbiddenStatus } from './status.ts';
import { createTokenRequest } from './token-request.ts';
import type { AuthnRequest, Authorizer, UserInfo } from './types.ts';

/** Whether az allows user the request method url. */
const allows = (az: Authorizer) => async (user: UserInfo, method: string, url: string) => (await az.authorize({ user, ...requestAttributes(method, url) })).decision === 'allow';
const req = (path: string, headers: Record<string, string> = {}, clientCert?: AuthnRequest['clientCert']): AuthnRequest => ({ path, header: (n) => headers[n], clientCert });

t.test('request attributes', async (t) => {
  t.match(requestAttributes('GET', '/api/v1/namespaces/default/pods'), { verb: 'list', resourceRequest: true, apiGroup: '', namespace: 'default', resource: 'pods', name: undefined });
  t.match(requestAttributes('GET', '/api/v1/namespaces/default/pods?watch=true'), { verb: 'watch' });
  t.match(requestAttributes('GET', '/api/v1/namespaces/default/pods/p1/log'), { verb: 'get', resource: 'pods', subresource: 'log', name: 'p1' });
  t.match(requestAttributes('GET', '/apis/apps/v1/deployments'), { verb: 'list', apiGroup: 'apps', resource: 'deployments', namespace: undefined });
  t.match(requestAttributes('DELETE', '/api/v1/namespaces/ns1/configmaps'), { verb: 'deletecollection' });
  t.match(requestAttributes('GET', '/api/v1/namespaces/kube-system'), { verb: 'get', resource: 'namespaces', name: 'kube-system', namespace: 'kube-system' });
  t.match(requestAttributes('PUT', '/api/v1/namespaces/x/status'), { verb: 'update', resource: 'namespaces', name: 'x', subresource: 'status' });
  t.match(requestAttributes('GET', '/api/v1/namespaces/d/secrets?fieldSelector=metadata.name%3Ds1&watch=1'), { verb: 'watch', name: 's1' });
  t.match(requestAttributes('GET', '/apis/apps/v1'), { resourceRequest: false, path: '/apis/apps/v1', verb: 'get' });
  t.match(requestAttributes('POST', '/api/v1/namespaces/d/serviceaccounts/default/token'), { verb: 'create', resource: 'serviceaccounts', subresource: 'token', name: 'default' });
});

const policy = () => [...bootstrapClusterRoles(), ...bootstrapClusterRoleBindings()];
function withAggregation(objs: KubeObject[]): KubeObject[] {
  const roles = objs.filter((o) => o.kind === 'ClusterRole');
  const agg = aggregateRules(roles);
  return objs.map((o) => (o.kind === 'ClusterRole' && agg.has(o.metadata.name!) ? { ...o, rules: agg.get(o.metadata.name!) } : o));
}

t.test('RBAC and the Kubernetes 403 wording', async (t) => {
  const alice: UserInfo = { username: 'alice', groups: ['system:authenticated'] };
  const objs = withAggregation([
    ...policy(),
    { kind: 'Role', metadata: { name: 'log-reader', namespace: 'team' }, rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] }, { apiGroups: [''], resources: ['configmaps'], resourceNames: ['only-this'], verbs: ['get'] }] },
    { kind: 'RoleBinding', metadata: { name: 'alice-logs', namespace: 'team' }, roleRef: { kind: 'Role', name: 'log-reader' }, subjects: [{ kind: 'User', name: 'alice' }] },
    { kind: 'RoleBinding', metadata: { name: 'bob-edit', namespace: 'team' }, roleRef: { kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'ServiceAccount', name: 'bob' }] },
  ]);
  const az = unionAuthorizer([privilegedGroupAuthorizer, new RbacAuthorizer(staticRbacSource(objs))]);
  const can = allows(az);
  t.ok(await can(alice, 'GET', '/api/v1/namespaces/team/pods'));
  t.ok(await can(alice, 'GET', '/api/v1/namespaces/team/pods/p/log'));
  t.notOk(await can(alice, 'GET', '/api/v1/namespaces/team/pods/p/exec'));
  t.notOk(await can(alice, 'GET', '/api/v1/namespaces/other/pods'));
  t.ok(await can(alice, 'GET', '/api/v1/namespaces/team/configmaps/only-this'));
  t.notOk(await can(alice, 'GET', '/api/v1/namespaces/team/configmaps/other'));
  t.notOk(await can(alice, 'GET', '/api/v1/namespaces/team/configmaps'));
  t.ok(await can(alice, 'GET', '/version'), 'public info');
  t.ok(await can(alice, 'GET', '/apis/apps/v1'), 'discovery');
  t.notOk(await can(alice, 'GET', '/metrics'));
  t.ok(await can(alice, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'));
  const bob: UserInfo = { username: 'system:serviceaccount:team:bob', groups: ['system:serviceaccounts', 'system:authenticated'] };
  t.ok(await can(bob, 'POST', '/apis/apps/v1/namespaces/team/deployments'), 'edit aggregates edit rules');
  t.ok(await can(bob, 'GET', '/apis/apps/v1/namespaces/team/deployments'), 'edit aggregates view rules');
  t.notOk(await can(bob, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles'), 'edit lacks admin rules');
  t.notOk(await can(bob, 'GET', '/api/v1/nodes'));
  const admin: UserInfo = { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
  t.ok(await can(admin, 'DELETE', '/api/v1/nodes/x'));
  const admins = aggregateRules(objs.filter((o) => o.kind === 'ClusterRole')).get('admin')!;
  t.ok(admins.some((r) => r.resources?.includes('rolebindings')) && admins.some((r) => r.resources?.includes('pods/exec')) && admins.some((r) => r.resources?.includes('pods/log')), 'admin = admin+edit+view');

  t.equal(forbiddenStatus({ user: alice, ...requestAttributes('GET', '/api/v1/namespaces/default/pods') }).message, 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
  t.equal(forbiddenStatus({ user: alice, ...requestAttributes('GET', '/apis/apps/v1/deployments') }).message, 'deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" at the cluster scope');
  t.equal(forbiddenStatus({ user: alice, ...requestAttributes('GET', '/api/v1/namespaces/d/pods/p/log') }).message, 'pods "p" is forbidden: User "alice" cannot get resource "pods/log" in API group "" in the namespace "d"');
  t.equal(forbiddenStatus({ user: alice, ...requestAttributes('GET', '/metrics') }).message, 'forbidden: User "alice" cannot get path "/metrics"');
  const st = forbiddenStatus({ user: alice, ...requestAttributes('GET', '/api/v1/namespaces/d/secrets/s') });
  t.same(st.details, { kind: 'secrets', name: 's' });
  t.equal(st.code, 403);

  const ssar = await selfSubjectAccessReview(alice, { metadata: {}, spec: { resourceAttributes: { namespace: 'team', verb: 'list', resource: 'pods' } } }, az);
  t.equal(ssar.status.allowed, true);
  const rules = selfSubjectRulesReview(alice, { metadata: {}, spec: { namespace: 'team' } }, staticRbacSource(objs));
  t.ok(rules.status.resourceRules.some((r: { resources: string[] }) => r.resources.includes('pods/log')));
  t.ok(rules.status.nonResourceRules.length > 0);
});

t.test('authentication chain', async (t) => {
  const anon = await authenticateRequest([x509Authenticator], req('/api/v1/pods'));
  t.same(anon, { error: 'Unauthorized' });
  const pub = await authenticateRequest([x509Authenticator], req('/version'));
  t.match(pub, { anonymous: true, user: { username: 'system:anonymous' } });
  const cert = await authenticateRequest([x509Authenticator], req('/api', {}, { cn: 'jane', o: ['dev', 'ops'] }));
  t.same(cert, { anonymous: false, user: { username: 'jane', groups: ['dev', 'ops', 'system:authenticated'] } });
  const badBearer = await authenticateRequest([x509Authenticator], req('/version', { authorization: 'Bearer nope' }));
  t.ok('error' in badBearer, 'a wrong bearer token is refused even on public paths');

  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const secrets = new Map<string, KubeObject>([[
    'kube-system/bootstrap-token-abcdef',
    { metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token', data: { 'token-id': b64('abcdef'), 'token-secret': b64('0123456789abcdef'), 'usage-bootstrap-authentication': b64('true'), expiration: b64('2030-01-01T00:00:00Z') } },
  ]]);
  const bt = bootstrapTokenAuthenticator({ getSecret: async (ns, n) => secrets.get(`${ns}/${n}`) }, { pathPrefixes: ['/v1-tsk/'], now: () => Date.parse('2029-01-01T00:00:00Z') });
  t.match(await bt.authenticate(req('/v1-tsk/client-kubelet.crt', { authorization: 'Bearer abcdef.0123456789abcdef' })), { user: { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] } });
  t.match(await bt.authenticate(req('/api/v1/pods', { authorization: 'Bearer abcdef.0123456789abcdef' })), { error: /only for joining/ });
  t.match(await bt.authenticate(req('/v1-tsk/x', { authorization: 'Bearer abcdef.0123456789abcdeX' })), undefined, 'wrong format is not a bootstrap token');
  t.match(await bt.authenticate(req('/v1-tsk/x', { authorization: 'Bearer abcdef.0123456789abcdee' })), { error: 'invalid bootstrap token' });
  const late = bootstrapTokenAuthenticator({ getSecret: async (ns, n) => secrets.get(`${ns}/${n}`) }, { pathPrefixes: ['/v1-tsk/'], now: () => Date.parse('2031-01-01T00:00:00Z') });
  t.match(await late.authenticate(req('/v1-tsk/x', { authorization: 'Bearer abcdef.0123456789abcdef' })), { error: 'invalid bootstrap token' }, 'expired');
});

t.test('service account tokens and TokenRequest', async (t) => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const objects = new Map<string, KubeObject>([
    ['serviceaccounts/ns/sa', { metadata: { name: 'sa', namespace: 'ns', uid: 'sa-uid' } }],
    ['pods/ns/p', { metadata: { name: 'p', namespace: 'ns', uid: 'pod-uid' } }],
  ]);
  const lookup: ObjectLookup = { get: async (r, ns, n) => objects.get(`${r}/${ns}/${n}`) };
  const tokens = new ServiceAccountTokens({ keys: await generateKeyPair(), now: () => now }, lookup);
  const tr = await createTokenRequest({ tokens, lookup, namespace: 'ns', name: 'sa', body: { metadata: {}, spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p' } } }, now: () => now });
  t.equal(tr.kind, 'TokenRequest');
  t.equal(tr.status.expirationTimestamp, '2026-01-01T01:00:00.000Z');
  const bearer = { authorization: `Bearer ${tr.status.token}` };
  t.match(await tokens.authenticate(req('/api', bearer)), { user: { username: 'system:serviceaccount:ns:sa', uid: 'sa-uid', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'], extra: { 'authentication.kubernetes.io/pod-name': ['p'] } } });
  const tampered = tr.status.token.slice(0, -4) + 'AAAA';
  t.match(await tokens.authenticate(req('/api', { authorization: `Bearer ${tampered}` })), { error: 'invalid bearer token' });
  const other = new ServiceAccountTokens({ keys: await generateKeyPair(), now: () => now }, lookup);
  t.match(await other.authenticate(req('/api', bearer)), { error: 'invalid bearer token' }, 'other key');
  const wrongAud = await createTokenRequest({ tokens, lookup, namespace: 'ns', name: 'sa', body: { metadata: {}, spec: { audiences: ['vault'] } } });
  t.match(await tokens.authenticate(req('/api', { authorization: `Bearer ${wrongAud.status.token}` })), { error: /audience/ });
  objects.delete('pods/ns/p');
  t.match(await tokens.authenticate(req('/api', bearer)), { error: /no longer exists/ }, 'bound pod deleted');
  objects.set('pods/ns/p', { metadata: { name: 'p', namespace: 'ns', uid: 'pod-uid' } });
  now += 3601_000;
  t.match(await tokens.authenticate(req('/api', bearer)), { error: /expired/ });
  await t.rejects(createTokenRequest({ tokens, lookup, namespace: 'ns', name: 'nope', body: { metadata: {} } }), { code: 404 });
  await t.rejects(createTokenRequest({ tokens, lookup, namespace: 'ns', name: 'sa', body: { metadata: {}, spec: { expirationSeconds: 10 } } }), { code: 422 });
  const plain = await createTokenRequest({ tokens, lookup, namespace: 'ns', name: 'sa', body: { metadata: {} } });
  objects.set('serviceaccounts/ns/sa', { metadata: { name: 'sa', namespace: 'ns', uid: 'new-uid' } });
  t.match(await tokens.authenticate(req('/api', { authorization: `Bearer ${plain.status.token}` })), { error: /deleted/ }, 'recreated SA');
});

t.test('node authorizer and NodeRestriction', async (t) => {
  const pods: KubeObject[] = [{
    metadata: { name: 'web', namespace: 'app', uid: 'u1' },
    spec: {
      nodeName: 'n1',
      serviceAccountName: 'websa',
      volumes: [{ name: 'a', secret: { secretName: 'tls' } }, { name: 'b', configMap: { name: 'conf' } }, { name: 'c', persistentVolumeClaim: { claimName: 'data' } }, { name: 'd', projected: { sources: [{ secret: { name: 'proj' } }] } }],
      containers: [{ name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'envsec', key: 'k' } } }], envFrom: [{ configMapRef: { name: 'envcm' } }] }],
    },
  }];
  const az = new NodeAuthorizer({ podsOnNode: async (n) => (n === 'n1' ? pods : []) });
  const n1: UserInfo = { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
  const n2: UserInfo = { username: 'system:node:n2', groups: ['system:nodes', 'system:authenticated'] };
  const can = allows(az);
  for (const u of ['/api/v1/namespaces/app/secrets/tls', '/api/v1/namespaces/app/secrets/proj', '/api/v1/namespaces/app/secrets/envsec', '/api/v1/namespaces/app/configmaps/conf', '/api/v1/namespaces/app/configmaps/envcm', '/api/v1/namespaces/app/persistentvolumeclaims/data']) {
    t.ok(await can(n1, 'GET', u), u);
    t.notOk(await can(n2, 'GET', u), `n2 ${u}`);
  }
  t.ok(await can(n1, 'GET', '/api/v1/namespaces/app/secrets?fieldSelector=metadata.name%3Dtls&watch=true'));
  t.notOk(await can(n1, 'GET', '/api/v1/namespaces/app/secrets'), 'no listing secrets');
  t.notOk(await can(n1, 'GET', '/api/v1/namespaces/app/secrets/other'));
  t.ok(await can(n1, 'POST', '/api/v1/namespaces/app/serviceaccounts/websa/token'));
  t.notOk(await can(n1, 'POST', '/api/v1/namespaces/app/serviceaccounts/default/token'));
  t.ok(await can(n1, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1'));
  t.ok(await can(n1, 'GET', '/api/v1/services'));
  t.ok(await can(n1, 'GET', '/apis/discovery.k8s.io/v1/endpointslices?watch=true'));
  t.ok(await can(n1, 'POST', '/api/v1/namespaces/app/events'));
  t.ok(await can(n1, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1'));
  t.notOk(await can(n1, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2'));
  t.notOk(await can(n1, 'DELETE', '/api/v1/namespaces/app'));
  const attr = (user: UserInfo, m: string, u: string) => ({ user, ...requestAttributes(m, u) });
  t.equal(nodeRestriction(attr(n1, 'PATCH', '/api/v1/nodes/n1/status')), undefined);
  t.equal(nodeRestriction(attr(n1, 'PATCH', '/api/v1/nodes/n2/status')), 'node "n1" is not allowed to modify node "n2"');
  t.equal(nodeRestriction(attr(n1, 'PUT', '/api/v1/namespaces/app/pods/web/status'), undefined, pods[0]), undefined);
  t.match(nodeRestriction(attr(n2, 'PUT', '/api/v1/namespaces/app/pods/web/status'), undefined, pods[0]), /can only update pod status/);
  t.match(nodeRestriction(attr(n1, 'POST', '/api/v1/namespaces/app/pods'), { metadata: { name: 'x' }, spec: { nodeName: 'n1' } }), /mirror pods/);
  t.match(nodeRestriction(attr(n1, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases'), { metadata: { name: 'n2' } }), /same name/);
  t.equal(nodeRestriction(attr(n1, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases'), { metadata: { name: 'n1' } }), undefined);
});

t.test('RBAC escalation prevention', async (t) => {
  const { checkEscalation } = await import('./escalation.ts');
  const objs = withAggregation([
    ...policy(),
    { kind: 'RoleBinding', metadata: { name: 'bob-admin', namespace: 'team' }, roleRef: { kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'User', name: 'bob' }] },
  ]);
  const src = staticRbacSource(objs);
  const az = unionAuthorizer([privilegedGroupAuthorizer, new RbacAuthorizer(src)]);
  const bob: UserInfo = { username: 'bob', groups: ['system:authenticated'] };
  const roleRules = (kind: string, name: string, ns: string) => (kind === 'ClusterRole' ? src.clusterRole(name) : src.role(ns, name))?.rules;
  const binding = (role: string) => ({ metadata: { name: 'x', namespace: 'team' }, roleRef: { kind: 'ClusterRole', name: role }, subjects: [{ kind: 'User', name: 'eve' }] });
  t.equal(await checkEscalation(az, { user: bob, resource: 'rolebindings', namespace: 'team', object: binding('view'), roleRules }), undefined, 'bob may hand out view');
  t.equal(await checkEscalation(az, { user: bob, resource: 'rolebindings', namespace: 'team', object: binding('edit'), roleRules }), undefined, 'and edit');
  t.match(await checkEscalation(az, { user: bob, resource: 'rolebindings', namespace: 'team', object: binding('cluster-admin'), roleRules }), /attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/);
  t.match(await checkEscalation(az, { user: bob, resource: 'rolebindings', namespace: 'other', object: { ...binding('view'), metadata: { name: 'x', namespace: 'other' } }, roleRules }), /not currently held/, 'not in another namespace');
  t.equal(await checkEscalation(az, { user: bob, resource: 'roles', namespace: 'team', object: { metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'] }] } }), undefined);
  t.match(await checkEscalation(az, { user: bob, resource: 'roles', namespace: 'team', object: { metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['delete'] }] } }), /not currently held/);
  const admin: UserInfo = { username: 'root', groups: ['system:masters'] };
  t.equal(await checkEscalation(az, { user: admin, resource: 'clusterrolebindings', object: { metadata: { name: 'y' }, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' } }, roleRules }), undefined);
});

t.test('SubjectAccessReview, TokenReview and kubectl\'s protobuf review bodies', async (t) => {
  const { subjectAccessReview, tokenReview, selfSubjectReview } = await import('./reviews.ts');
  const { decodeReview } = await import('./review-protobuf.ts');
  const az = unionAuthorizer([privilegedGroupAuthorizer, new RbacAuthorizer(staticRbacSource(withAggregation(policy())))]);
  const sar = await subjectAccessReview({ metadata: {}, spec: { user: 'x', groups: ['system:masters'], resourceAttributes: { verb: 'delete', resource: 'nodes' } } }, az);
  t.equal(sar.status.allowed, true);
  const sar2 = await subjectAccessReview({ metadata: {}, spec: { user: 'x', groups: ['system:authenticated'], nonResourceAttributes: { verb: 'get', path: '/metrics' } } }, az);
  t.equal(sar2.status.allowed, false);
  t.same(selfSubjectReview({ username: 'u', groups: ['g'] }).status, { userInfo: { username: 'u', groups: ['g'] } });
  const tokens = new ServiceAccountTokens({ keys: await generateKeyPair() });
  const { token } = await tokens.issue({ namespace: 'ns', serviceAccount: { name: 'sa', uid: '1' }, expirationSeconds: 600 });
  t.match((await tokenReview({ metadata: {}, spec: { token } }, [tokens])).status, { authenticated: true, user: { username: 'system:serviceaccount:ns:sa' } });
  t.match((await tokenReview({ metadata: {}, spec: { token: 'nope' } }, [tokens])).status, { authenticated: false });

  // Hand-encoded protobuf: k8s\0 + Unknown{typeMeta{apiVersion,kind}, raw=SubjectAccessReview{spec{resourceAttributes, user, groups}}}
  const enc = new TextEncoder();
  const field = (no: number, payload: Uint8Array) => {
    const len: number[] = [];
    let n = payload.length;
    do { len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0)); n >>= 7; } while (n > 0);
    return new Uint8Array([(no << 3) | 2, ...len, ...payload]);
  };
  const s = (no: number, v: string) => field(no, enc.encode(v));
  const cat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));
  const ra = cat(s(1, 'team'), s(2, 'get'), s(5, 'pods'), s(6, 'log'));
  const spec = cat(field(1, ra), s(3, 'jane'), s(4, 'devs'), s(4, 'ops'));
  const raw = cat(field(1, new Uint8Array()), field(2, spec));
  const body = cat(new Uint8Array([0x6b, 0x38, 0x73, 0x00]), field(1, cat(s(1, 'authorization.k8s.io/v1'), s(2, 'SubjectAccessReview'))), field(2, raw));
  t.same(decodeReview(body), {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {},
    spec: { resourceAttributes: { namespace: 'team', verb: 'get', resource: 'pods', subresource: 'log' }, user: 'jane', groups: ['devs', 'ops'] },
  });
  t.throws(() => decodeReview(new Uint8Array([1, 2, 3, 4, 5])));
});
