// The admission plugins through the real kubectl over TLS against the in-process secure API server: LimitRange
// defaults on a created pod, a ResourceQuota rejection and status.used from the quota controller, Pod Security
// (restricted) rejection and warnings, and `kubectl auth whoami`.
import t from 'tap';
import { core, type KubeObject } from '../lib/client/types.ts';
import { controllers, startControllers } from '../lib/controllers/manager.ts';
import { haveKubectl, startSecureApi } from './secure-api.ts';

if (!haveKubectl) {
  t.pass('kubectl not found on PATH: skipped');
} else {
  const { srv, kubeconfig, kubectlAs, manifest } = await startSecureApi(t, 'tsk-adm-e2e-');
  const ac = new AbortController();
  const m = startControllers({
    client: srv.client, signal: ac.signal, leaderElection: { identity: 'adm-e2e' }, resyncMs: 60_000,
    controllers: { resourcequota: controllers.resourcequota! },
  });
  t.teardown(async () => {
    ac.abort();
    await m.stop();
  });
  await m.ready;

  const kubectl = (...args: string[]) => kubectlAs(kubeconfig, ...args);
  const podObj = (name: string, ns: string, extra: Record<string, unknown> = {}) =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { containers: [{ name: 'c', image: 'nginx', ...extra }] } });

  t.test('kubectl auth whoami', async (t) => {
    const r = await kubectl('auth', 'whoami', '-o', 'json');
    t.equal(r.code, 0, r.err);
    const review = JSON.parse(r.out) as KubeObject;
    t.equal(review.kind, 'SelfSubjectReview');
    t.match(review.status?.userInfo, { username: String, groups: Array });
    t.ok((review.status!.userInfo.groups as string[]).includes('system:masters'));
  });

  t.test('LimitRange defaults are visible on a created pod; max is enforced', async (t) => {
    t.equal((await kubectl('create', 'namespace', 'lr')).code, 0);
    t.equal((await kubectl('apply', '-f', manifest('lr', {
      apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'defaults', namespace: 'lr' },
      spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '128Mi' }, defaultRequest: { cpu: '100m', memory: '64Mi' }, max: { cpu: '1' } }] },
    }))).code, 0);
    const c = await kubectl('create', '-f', manifest('p1', podObj('p1', 'lr')));
    t.equal(c.code, 0, c.err);
    const got = await kubectl('get', 'pod', 'p1', '-n', 'lr', '-o', 'jsonpath={.spec.containers[0].resources}');
    t.same(JSON.parse(got.out), { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } });
    const big = await kubectl('create', '-f', manifest('p2', podObj('p2', 'lr', { resources: { limits: { cpu: '2' } } })));
    t.not(big.code, 0);
    t.match(big.err, 'Error from server (Forbidden): error when creating');
    t.match(big.err, 'pods "p2" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
  });

  t.test('ResourceQuota: status.used from the controller, then a rejection', async (t) => {
    t.equal((await kubectl('create', 'namespace', 'rq')).code, 0);
    t.equal((await kubectl('create', 'quota', 'objs', '-n', 'rq', '--hard=configmaps=2,pods=1')).code, 0);
    // every namespace gets kube-root-ca.crt in a full server; here the namespace starts empty
    t.equal((await kubectl('create', 'configmap', 'a', '-n', 'rq', '--from-literal=k=v')).code, 0);
    t.equal((await kubectl('create', 'configmap', 'b', '-n', 'rq', '--from-literal=k=v')).code, 0);
    const r = await kubectl('create', 'configmap', 'c', '-n', 'rq', '--from-literal=k=v');
    t.not(r.code, 0);
    t.match(r.err, 'error: failed to create configmap: configmaps "c" is forbidden: exceeded quota: objs, requested: configmaps=1, used: configmaps=2, limited: configmaps=2');
    let used: Record<string, string> = {};
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const q = await srv.client.get<KubeObject>(core('resourcequotas'), 'objs', 'rq');
      used = q.status?.used ?? {};
      if (used.configmaps === '2' && q.status?.hard?.pods === '1') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    t.same(used, { configmaps: '2', pods: '0' });
    const d = await kubectl('describe', 'quota', 'objs', '-n', 'rq');
    t.match(d.out, /configmaps\s+2\s+2/);
  });

  t.test('Pod Security: restricted rejects pods, warns for deployments', async (t) => {
    t.equal((await kubectl('create', 'namespace', 'ps')).code, 0);
    t.equal((await kubectl('create', '-f', manifest('ps0', podObj('old', 'ps')))).code, 0, 'created before the label');
    const l = await kubectl('label', 'namespace', 'ps', 'pod-security.kubernetes.io/enforce=restricted');
    t.equal(l.code, 0);
    t.match(l.err, 'Warning: existing pods in namespace "ps" violate the new PodSecurity enforce level "restricted:latest"');
    t.match(l.err, 'Warning: old: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile');
    const r = await kubectl('create', '-f', manifest('ps1', podObj('x', 'ps')));
    t.not(r.code, 0);
    t.match(r.err, 'pods "x" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")');
    const ok = await kubectl('create', '-f', manifest('ps2', podObj('y', 'ps', { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } })));
    t.not(ok.code, 0, 'still lacks runAsNonRoot/seccomp');
    const good = podObj('z', 'ps', { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }) as { spec: Record<string, unknown> };
    good.spec.securityContext = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
    const g = await kubectl('create', '-f', manifest('ps3', good));
    t.equal(g.code, 0, g.err);
    const dep = await kubectl('create', 'deployment', 'web', '-n', 'ps', '--image=nginx');
    t.equal(dep.code, 0);
    t.match(dep.err, 'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false');
  });
}
