// Unit tests of the admission plugins (lib/server/admission) against fake lookups.
import t from 'tap';
import type { KubeObject } from '../lib/client/types.ts';
import { admissionPlugins, type AdmissionLookup } from '../lib/server/admission/index.ts';
import { applyLimitRangeDefaults, limitRangeViolations } from '../lib/server/admission/limitranger.ts';
import { checkPod, evaluatePodSecurity, namespacePolicies } from '../lib/server/admission/podsecurity.ts';
import { quotaViolation, usageFor, usageOf } from '../lib/server/admission/quota.ts';
import { collectWarnings } from '../lib/server/admission/warnings.ts';
import type { AdmissionAttributes } from '../lib/server/registry/admission.ts';

const pod = (name: string, containers: unknown[], extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: { containers, ...extra } }) as KubeObject;
const lr = (limits: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr', namespace: 'ns' }, spec: { limits } }) as KubeObject;

t.test('LimitRanger defaults requests and limits, then enforces min/max/ratio', async (t) => {
  const ranges = [lr([{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m' }, max: { cpu: '1' }, min: { cpu: '50m' } }])];
  const p = pod('p', [{ name: 'c', image: 'x' }, { name: 'd', image: 'x', resources: { limits: { cpu: '200m' } } }]);
  applyLimitRangeDefaults(p, ranges);
  const c = (p.spec!.containers as any[])[0];
  t.same(c.resources, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
  t.same((p.spec!.containers as any[])[1].resources.limits, { cpu: '200m', memory: '256Mi' });
  t.match(p.metadata.annotations!['kubernetes.io/limit-ranger'], /^LimitRanger plugin set: cpu, memory request for container c; .*cpu, memory limit for container c/);
  t.same(limitRangeViolations(p, ranges), []);
  const big = pod('b', [{ name: 'c', image: 'x', resources: { limits: { cpu: '2' }, requests: { cpu: '10m' } } }]);
  t.same(limitRangeViolations(big, ranges), ['minimum cpu usage per Container is 50m, but request is 10m', 'maximum cpu usage per Container is 1, but limit is 2']);
  const ratio = [lr([{ type: 'Container', maxLimitRequestRatio: { cpu: '2' } }])];
  t.same(limitRangeViolations(pod('r', [{ name: 'c', resources: { limits: { cpu: '1' }, requests: { cpu: '250m' } } }]), ratio),
    ['cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000']);
  const podMax = [lr([{ type: 'Pod', max: { memory: '1Gi' } }])];
  t.same(limitRangeViolations(pod('m', [{ name: 'a', resources: { limits: { memory: '768Mi' } } }, { name: 'b', resources: { limits: { memory: '512Mi' } } }]), podMax),
    ['maximum memory usage per Pod is 1Gi, but limit is 1280Mi']);
});

t.test('ResourceQuota usage and messages', async (t) => {
  const q = { metadata: { name: 'compute', namespace: 'ns' }, spec: { hard: { pods: '2', 'requests.cpu': '1', 'requests.memory': '1Gi' } } } as unknown as KubeObject;
  const mk = (n: string, cpu: string) => pod(n, [{ name: 'c', resources: { requests: { cpu, memory: '256Mi' } } }]);
  const ref = { group: '', resource: 'pods' };
  const used = usageFor(ref, [mk('a', '600m')], ['pods', 'requests.cpu', 'requests.memory']);
  t.same(used, { pods: 1000, 'requests.cpu': 600, 'requests.memory': 256 * 2 ** 20 * 1000 });
  t.equal(quotaViolation(q, usageOf(ref, mk('b', '300m')), used, mk('b', '300m'), { ...ref, version: 'v1' }), undefined);
  t.equal(quotaViolation(q, usageOf(ref, mk('b', '500m')), used, mk('b', '500m'), { ...ref, version: 'v1' }),
    'exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1');
  t.equal(quotaViolation(q, usageOf(ref, pod('n', [{ name: 'c' }])), used, pod('n', [{ name: 'c' }]), { ...ref, version: 'v1' }),
    'failed quota: compute: must specify requests.cpu for: c; requests.memory for: c');
  const cm = { metadata: { name: 'objs' }, spec: { hard: { configmaps: '1', 'count/deployments.apps': '1' } } } as unknown as KubeObject;
  const cmUsed = usageFor({ group: '', resource: 'configmaps' }, [{ metadata: { name: 'x' } } as KubeObject], ['configmaps', 'count/deployments.apps']);
  t.equal(quotaViolation(cm, usageOf({ group: '', resource: 'configmaps' }, { metadata: { name: 'y' } } as KubeObject), cmUsed),
    'exceeded quota: objs, requested: configmaps=1, used: configmaps=1, limited: configmaps=1');
  t.same(usageOf({ group: 'apps', resource: 'deployments' }, { metadata: {} } as KubeObject), { 'count/deployments.apps': 1000 });
});

t.test('Pod Security checks and messages', async (t) => {
  const plain = pod('x', [{ name: 'c', image: 'nginx' }]);
  t.same(checkPod('baseline', plain.spec!), []);
  t.same(checkPod('restricted', plain.spec!), [
    'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)',
    'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"])',
    'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true)',
    'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  ]);
  const good = pod('g', [{ name: 'c', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } });
  t.same(checkPod('restricted', good.spec!), []);
  const bad = pod('b', [{ name: 'c', securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } }, ports: [{ containerPort: 80, hostPort: 80 }] }],
    { hostNetwork: true, volumes: [{ name: 'h', hostPath: { path: '/' } }] });
  t.same(checkPod('baseline', bad.spec!), [
    'non-default capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
    'host namespaces (hostNetwork=true)',
    'hostPath volumes (volume "h")',
    'hostPort (container "c" uses hostPort 80)',
    'privileged (container "c" must not set securityContext.privileged=true)',
  ]);
  const ns = { metadata: { name: 'ns', labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'baseline', 'pod-security.kubernetes.io/warn-version': 'v1.32' } } } as unknown as KubeObject;
  const pol = namespacePolicies(ns);
  t.same(pol.map((p) => `${p.mode}=${p.level}:${p.version}`), ['enforce=restricted:latest', 'warn=baseline:v1.32']);
  const r = evaluatePodSecurity(pol, { resource: 'pods', group: '', object: bad });
  t.match(r.deny, /^violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
  t.match(r.warnings[0], /^would violate PodSecurity "baseline:v1.32": non-default capabilities/);
  const dep = { metadata: { name: 'd' }, spec: { template: { metadata: {}, spec: plain.spec } } } as unknown as KubeObject;
  const w = evaluatePodSecurity(pol, { resource: 'deployments', group: 'apps', object: dep });
  t.equal(w.deny, undefined);
  t.match(w.warnings, [/^would violate PodSecurity "restricted:latest": allowPrivilegeEscalation/]);
});

t.test('the chain: lookups, Forbidden errors and warnings', async (t) => {
  const objects: Record<string, KubeObject[]> = {
    limitranges: [lr([{ type: 'Container', default: { cpu: '200m' }, defaultRequest: { cpu: '100m' } }])],
    resourcequotas: [{ metadata: { name: 'q', namespace: 'ns' }, spec: { hard: { pods: '1' } } } as unknown as KubeObject],
    pods: [pod('existing', [{ name: 'c' }])],
  };
  const look: AdmissionLookup = {
    namespace: async () => ({ metadata: { name: 'ns', labels: { 'pod-security.kubernetes.io/warn': 'restricted' } } }) as unknown as KubeObject,
    list: async (ref) => objects[ref.resource] ?? [],
  };
  const admit = admissionPlugins(look);
  const attrs = (o: KubeObject): AdmissionAttributes => ({ operation: 'CREATE', group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespace: 'ns', name: o.metadata.name, object: o, dryRun: false });
  const p = pod('new', [{ name: 'c' }]);
  const { warnings } = await collectWarnings(() => admit(attrs(p)).catch((e) => e)).then(async (x) => ({ warnings: x.warnings, err: x.result }));
  t.match(warnings, [/would violate PodSecurity "restricted:latest"/]);
  await t.rejects(admit(attrs(pod('new2', [{ name: 'c' }]))), { code: 403, message: 'pods "new2" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1' });
  t.same((p.spec!.containers as any[])[0].resources, { limits: { cpu: '200m' }, requests: { cpu: '100m' } });
  objects.pods = [];
  await admit(attrs(pod('ok', [{ name: 'c' }])));
});

t.test('quota scopes select pods', async (t) => {
  const { quotaSelects } = await import('../lib/server/admission/quota.ts');
  const ref = { group: '', resource: 'pods' };
  const be = pod('be', [{ name: 'c' }]);
  const burst = pod('b', [{ name: 'c', resources: { requests: { cpu: '1' } } }], { priorityClassName: 'high' });
  const q = (spec: unknown) => ({ metadata: { name: 'q' }, spec }) as unknown as KubeObject;
  t.ok(quotaSelects(q({ scopes: ['BestEffort'] }), ref, be));
  t.notOk(quotaSelects(q({ scopes: ['BestEffort'] }), ref, burst));
  t.ok(quotaSelects(q({ scopes: ['NotBestEffort', 'NotTerminating'] }), ref, burst));
  t.ok(quotaSelects(q({ scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } }), ref, burst));
  t.notOk(quotaSelects(q({ scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } }), ref, be));
  t.notOk(quotaSelects(q({ scopes: ['BestEffort'] }), { group: '', resource: 'configmaps' }, { metadata: {} } as KubeObject));
  t.ok(quotaSelects(q({}), { group: '', resource: 'configmaps' }, { metadata: {} } as KubeObject));
});

t.test('labelling a namespace warns about existing pods', async (t) => {
  const { namespaceLabelWarnings } = await import('../lib/server/admission/index.ts');
  const look: AdmissionLookup = { namespace: async () => undefined, list: async () => [pod('old', [{ name: 'c', securityContext: { privileged: true } }])] };
  const ns = (labels: Record<string, string>) => ({ metadata: { name: 'ns', labels } }) as unknown as KubeObject;
  t.same(await namespaceLabelWarnings(look, ns({ 'pod-security.kubernetes.io/enforce': 'baseline' }), ns({})), [
    'existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"',
    'old: privileged',
  ]);
  t.same(await namespaceLabelWarnings(look, ns({ 'pod-security.kubernetes.io/enforce': 'baseline' }), ns({ 'pod-security.kubernetes.io/enforce': 'baseline' })), []);
});

t.test('quota controller computes status.used', async (t) => {
  const { computeQuotaStatus } = await import('../lib/controllers/resourcequota.ts');
  const lister = (items: KubeObject[]) => ({ get: () => undefined, getByKey: () => undefined, list: () => items, byIndex: () => [] });
  const quota = { metadata: { name: 'q', namespace: 'ns' }, spec: { hard: { pods: '5', 'requests.memory': '1Gi', 'count/deployments.apps': '3', secrets: '4' } } } as unknown as KubeObject;
  const listed: string[] = [];
  const st = await computeQuotaStatus({
    client: { list: async (ref: { resource: string }) => { listed.push(ref.resource); return { items: [{ metadata: { name: 'd' } }] }; }, update: async () => ({}) } as never,
    quotas: lister([quota]),
    listers: { pods: lister([pod('a', [{ name: 'c', resources: { requests: { memory: '256Mi' } } }]), pod('b', [{ name: 'c', resources: { requests: { memory: '256Mi' } } }])]), secrets: lister([]) },
  }, quota);
  t.same(st.hard, quota.spec!.hard);
  t.same(st.used, { pods: '2', 'requests.memory': '512Mi', 'count/deployments.apps': '1', secrets: '0' });
  t.same(listed, ['deployments']);
});

t.test('restricted replaces the baseline capabilities and seccomp checks', async (t) => {
  const p = pod('p', [{ name: 'c', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] }, seccompProfile: { type: 'Unconfined' } } }],
    { securityContext: { runAsNonRoot: true } });
  t.same(checkPod('restricted', p.spec!), [
    'unrestricted capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
    'seccompProfile (container "c" must not set securityContext.seccompProfile.type to "Unconfined")',
  ]);
  t.same(checkPod('baseline', p.spec!), [
    'non-default capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
    'seccompProfile (container "c" must not set securityContext.seccompProfile.type to "Unconfined")',
  ]);
});
