import t from 'tap';
import { ApiError } from '../../client/types.ts';
import { applyPatch, jsonMergePatch, jsonPatch, patchTypeOf, strategicMergePatch } from './index.ts';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}\n', keep: 'x' }, finalizers: ['a'] },
  spec: {
    replicas: 1,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1.26', ports: [{ containerPort: 80 }, { containerPort: 443 }], env: [{ name: 'A', value: '1' }] },
          { name: 'side', image: 'busybox' },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
        tolerations: [{ key: 'a', operator: 'Exists' }],
      },
    },
  },
});

t.test('the patch kubectl apply sends', async (t) => {
  const patch = {
    metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":true}\n' } },
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'side' }, { name: 'web' }],
          containers: [
            { '$setElementOrder/ports': [{ containerPort: 80 }], image: 'nginx:1.27', name: 'web', ports: [{ $patch: 'delete', containerPort: 443 }], env: [{ name: 'B', value: '2' }] },
          ],
        },
      },
    },
  };
  const orig = deployment();
  const out = strategicMergePatch(orig, patch, 'Deployment') as any;
  t.equal(orig.spec.template.spec.containers[0].image, 'nginx:1.26', 'input untouched');
  t.same(out.metadata.annotations, { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":true}\n', keep: 'x' });
  const cs = out.spec.template.spec.containers;
  t.same(cs.map((c: any) => c.name), ['side', 'web'], '$setElementOrder');
  t.equal(cs[1].image, 'nginx:1.27');
  t.same(cs[1].ports, [{ containerPort: 80 }]);
  t.same(cs[1].env, [{ name: 'B', value: '2' }, { name: 'A', value: '1' }], 'without $setElementOrder/env new items come first, as upstream');
  t.notOk(JSON.stringify(out).includes('$'), 'no directives left');
});

t.test('strategic directives table', async (t) => {
  const cases: Array<{ name: string; kind?: string; orig: any; patch: any; want: any }> = [
    { name: 'null deletes', orig: { a: 1, b: { c: 1, d: 2 } }, patch: { a: null, b: { c: null } }, want: { b: { d: 2 } } },
    { name: 'atomic list replaces', orig: { spec: { tolerations: [{ key: 'a' }] } }, patch: { spec: { tolerations: [{ key: 'b' }] } }, want: { spec: { tolerations: [{ key: 'b' }] } } },
    { name: 'finalizers merge as a set', orig: { metadata: { finalizers: ['a', 'b'] } }, patch: { metadata: { finalizers: ['b', 'c'] } }, want: { metadata: { finalizers: ['a', 'b', 'c'] } } },
    { name: 'deleteFromPrimitiveList', orig: { metadata: { finalizers: ['a', 'b'] } }, patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, want: { metadata: { finalizers: ['b'] } } },
    { name: '$patch replace on a map', orig: { spec: { selector: { a: '1', b: '2' } } }, patch: { spec: { selector: { $patch: 'replace', c: '3' } } }, want: { spec: { selector: { c: '3' } } } },
    { name: '$patch delete on a map', orig: { spec: { x: { a: 1 }, y: 1 } }, patch: { spec: { x: { $patch: 'delete' } } }, want: { spec: { y: 1 } } },
    { name: '$patch replace in a list', orig: { spec: { containers: [{ name: 'a' }, { name: 'b' }] } }, patch: { spec: { containers: [{ $patch: 'replace' }, { name: 'c' }] } }, want: { spec: { containers: [{ name: 'c' }] } } },
    {
      name: '$retainKeys',
      orig: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
      patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      want: { spec: { strategy: { type: 'Recreate' } } },
    },
    {
      name: 'volumes merge by name and retainKeys',
      orig: { spec: { volumes: [{ name: 'v', emptyDir: {} }] } },
      patch: { spec: { volumes: [{ name: 'v', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/x' } }] } },
      want: { spec: { volumes: [{ name: 'v', hostPath: { path: '/x' } }] } },
    },
    {
      name: 'service ports merge by port',
      kind: 'Service',
      orig: { spec: { ports: [{ port: 80, targetPort: 8080 }] } },
      patch: { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 81 }] } },
      want: { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 81 }] } },
    },
    {
      name: 'conditions merge by type',
      kind: 'Pod',
      orig: { status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] } },
      patch: { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      want: { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }] } },
    },
    {
      name: 'new key with nested directives',
      orig: {},
      patch: { spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ name: 'a', env: [{ name: 'x', value: null }] }] } },
      want: { spec: { containers: [{ name: 'a', env: [{ name: 'x' }] }] } },
    },
    {
      name: 'patch order first, server-only items keep their live places',
      orig: { spec: { containers: [{ name: 'a' }, { name: 'b' }] } },
      patch: { spec: { containers: [{ name: 'c' }, { name: 'a', image: 'x' }] } },
      want: { spec: { containers: [{ name: 'c' }, { name: 'a', image: 'x' }, { name: 'b' }] } },
    },
    {
      name: 'server-only item before the patched ones stays first',
      orig: { spec: { containers: [{ name: 'a' }, { name: 'b' }] } },
      patch: { spec: { containers: [{ name: 'b', image: 'y' }, { name: 'c' }] } },
      want: { spec: { containers: [{ name: 'a' }, { name: 'b', image: 'y' }, { name: 'c' }] } },
    },
    {
      name: '$setElementOrder interleaves a server-only item by its live position (upstream mergeSortedSlice)',
      orig: { spec: { containers: [{ name: 'a' }, { name: 'injected' }, { name: 'b' }] } },
      patch: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }], containers: [{ name: 'b', image: 'z' }] } },
      want: { spec: { containers: [{ name: 'injected' }, { name: 'b', image: 'z' }, { name: 'a' }] } },
    },
    {
      name: 'ownerReferences merge by uid',
      orig: { metadata: { ownerReferences: [{ uid: '1', name: 'a' }] } },
      patch: { metadata: { ownerReferences: [{ uid: '2', name: 'b' }] } },
      want: { metadata: { ownerReferences: [{ uid: '2', name: 'b' }, { uid: '1', name: 'a' }] } },
    },
  ];
  for (const c of cases) t.same(strategicMergePatch(c.orig, c.patch, c.kind ?? 'Deployment'), c.want, c.name);
  t.throws(() => strategicMergePatch({}, { spec: { containers: [{ image: 'x' }] } }, 'Pod'), { code: 400 }, 'missing merge key');
  t.throws(() => strategicMergePatch({}, { $patch: 'explode' }, 'Pod'), { code: 400 });
});

t.test('json merge patch (RFC 7396 examples)', async (t) => {
  t.same(jsonMergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
  t.same(jsonMergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' });
  t.same(jsonMergePatch({ a: 'b' }, { a: null }), {});
  t.same(jsonMergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
  t.same(jsonMergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
  t.same(jsonMergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
});

t.test('json patch', async (t) => {
  const orig = { metadata: { labels: { a: '1' } }, spec: { replicas: 1 } };
  t.same(jsonPatch(orig, [{ op: 'replace', path: '/spec/replicas', value: 3 }, { op: 'add', path: '/metadata/labels/b', value: '2' }]), { metadata: { labels: { a: '1', b: '2' } }, spec: { replicas: 3 } });
  t.equal(orig.spec.replicas, 1);
  t.throws(() => jsonPatch(orig, { op: 'add' }), { code: 400 });
  t.throws(() => jsonPatch(orig, [{ op: 'frob', path: '/a' }]), { code: 400 });
  const e = t.throws(() => jsonPatch(orig, [{ op: 'test', path: '/spec/replicas', value: 2 }])) as unknown as ApiError;
  t.equal(e.code, 422);
  t.throws(() => jsonPatch(orig, [{ op: 'remove', path: '/nope/x' }]), { code: 422 });
});

t.test('applyPatch dispatch', async (t) => {
  t.equal(patchTypeOf('application/strategic-merge-patch+json; charset=utf-8'), 'strategic');
  t.throws(() => patchTypeOf('text/plain'), { code: 415 });
  t.throws(() => applyPatch('strategic', {}, {}, {}), { code: 415 }, 'custom resources refuse strategic merge');
  t.same(applyPatch('merge', { spec: { replicas: 1 } }, { spec: { replicas: 3 } }), { spec: { replicas: 3 } });
  t.same(applyPatch('strategic', deployment(), { spec: { replicas: 2 } }, { kind: 'Deployment' }).spec, { ...deployment().spec, replicas: 2 });
});

t.test('strategic PATCH follows the upstream patch strategy (not the apply list type)', async (t) => {
  const conds = (...c: [string, string][]) => c.map(([type, status]) => ({ type, status }));
  const orig = { status: { conditions: conds(['A', 'False'], ['B', 'True']) } };
  const patch = { status: { conditions: conds(['A', 'True']) } };
  const merged = { status: { conditions: conds(['A', 'True'], ['B', 'True']) } };
  const cases: [string, unknown][] = [
    ['Pod', merged], ['Deployment', merged], ['Job', merged], // Job: list-type atomic for apply, merged by PATCH
    ['CustomResourceDefinition', patch], ['CertificateSigningRequest', patch], ['ValidatingAdmissionPolicy', patch],
  ];
  for (const [kind, want] of cases) t.same(strategicMergePatch(orig, patch, kind), want, `${kind} status.conditions`);
  // PodStatus.hostIPs: merge by ip for PATCH (atomic for apply)
  t.same(strategicMergePatch({ status: { hostIPs: [{ ip: '10.0.0.1' }] } }, { status: { hostIPs: [{ ip: 'fd00::1' }] } }, 'Pod'),
    { status: { hostIPs: [{ ip: 'fd00::1' }, { ip: '10.0.0.1' }] } });
  // no patch strategy: replaced whole (listType=set/map for apply only)
  t.same(strategicMergePatch({ endpoints: [{ addresses: ['10.0.0.1'] }] }, { endpoints: [{ addresses: ['10.0.0.2'] }] }, 'EndpointSlice'),
    { endpoints: [{ addresses: ['10.0.0.2'] }] });
  t.same(strategicMergePatch({ spec: { containers: [{ name: 'a', resources: { claims: [{ name: 'x' }] } }] } },
    { spec: { containers: [{ name: 'a', resources: { claims: [{ name: 'y' }] } }] } }, 'Pod'),
  { spec: { containers: [{ name: 'a', resources: { claims: [{ name: 'y' }] } }] } });
  // PodDisruptionBudget spec.selector: patchStrategy replace; other selectors merge as maps
  const sel = { spec: { selector: { matchLabels: { a: '1' } } } };
  const selPatch = { spec: { selector: { matchExpressions: [{ key: 'b', operator: 'Exists' }] } } };
  t.same(strategicMergePatch(sel, selPatch, 'PodDisruptionBudget'), selPatch);
  t.same(strategicMergePatch(sel, selPatch, 'Deployment'),
    { spec: { selector: { matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'Exists' }] } } });
});
