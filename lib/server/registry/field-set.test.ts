import t from 'tap';
import { builtinPatchMeta } from '../patch/patch-meta.ts';
import { extensionsOf, PATCH_EXTENSIONS } from '../openapi/patch-extensions.ts';
import {
  APPLY_LOCATIONS, applyListType, compare, difference, fromFieldsV1, intersection, paths, pathString, removeFields, shapesFor, toFieldSet, toFieldsV1, union,
} from './field-set.ts';

const deploy = () => ({
  metadata: { labels: { app: 'web' }, finalizers: ['a'] },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      spec: {
        containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }], resources: {} }],
        tolerations: [{ key: 'x' }],
      },
    },
  },
});

t.test('toFieldSet: keyed lists, sets, atomic lists and maps, empty maps', async (t) => {
  const fs = toFieldsV1(toFieldSet(deploy(), shapesFor('Deployment')));
  t.same(fs, {
    'f:metadata': { 'f:finalizers': { 'v:"a"': {} }, 'f:labels': { 'f:app': {} } },
    'f:spec': {
      'f:replicas': {},
      'f:selector': {},
      'f:template': {
        'f:spec': {
          'f:containers': {
            'k:{"name":"web"}': {
              '.': {}, 'f:image': {}, 'f:name': {},
              'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              'f:resources': {},
            },
          },
          'f:tolerations': {},
        },
      },
    },
  });
  t.same(fromFieldsV1(fs), toFieldSet(deploy(), shapesFor('Deployment')), 'FieldsV1 round trip');
  t.same(toFieldsV1(toFieldSet({ spec: { list: [{ a: 1 }] } }, shapesFor(undefined))), { 'f:spec': { 'f:list': {} } }, 'custom resources: atomic lists');
});

t.test('compare: added, modified, removed', async (t) => {
  const sh = shapesFor('Deployment');
  const a = deploy();
  const b = deploy();
  b.spec.replicas = 3;
  b.spec.template.spec.containers.push({ name: 'side', image: 'busybox', ports: [], resources: {} });
  delete (b.metadata as Record<string, unknown>).finalizers;
  const c = compare(a, b, sh);
  t.same(paths(c.changed).map(pathString).sort(), [
    '.spec.replicas',
    '.spec.template.spec.containers[name="side"]',
    '.spec.template.spec.containers[name="side"].image',
    '.spec.template.spec.containers[name="side"].name',
    '.spec.template.spec.containers[name="side"].ports',
    '.spec.template.spec.containers[name="side"].resources',
  ].sort());
  t.same(paths(c.removed).map(pathString), ['.metadata.finalizers', '.metadata.finalizers[="a"]']);
  t.same(paths(compare(a, deploy(), sh).changed), [], 'equal objects');
});

t.test('set algebra and removal of pruned fields', async (t) => {
  const sh = shapesFor('Deployment');
  const s1 = toFieldSet({ spec: { replicas: 1, paused: true } }, sh);
  const s2 = toFieldSet({ spec: { replicas: 1 } }, sh);
  t.same(paths(difference(s1, s2)).map(pathString), ['.spec.paused']);
  t.same(paths(intersection(s1, s2)).map(pathString), ['.spec.replicas']);
  t.same(paths(union(s2, toFieldSet({ metadata: { labels: { a: '1' } } }, sh))).map(pathString), ['.metadata.labels.a', '.spec.replicas']);
  const obj = deploy() as Record<string, unknown>;
  const last = toFieldSet(deploy(), sh);
  const keep = toFieldSet({ spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } }, metadata: { labels: { app: 'web' } } }, sh);
  removeFields(obj, last, keep, sh);
  t.same(obj, { metadata: { labels: { app: 'web' } }, spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } } });
  t.equal(pathString(['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}', 'f:name']), '.spec.ports[port=80,protocol="TCP"].name');
});

t.test('apply list types come from the upstream list-type table, not the patch strategy', async (t) => {
  const fs = (kind: string, obj: unknown) => toFieldsV1(toFieldSet(obj, shapesFor(kind)));
  const cond = { type: 'Ready', status: 'True' };
  // Job status.conditions: merged by PATCH, atomic for apply
  t.same(fs('Job', { status: { conditions: [cond] } }), { 'f:status': { 'f:conditions': {} } }, 'Job conditions atomic');
  const keyed = { 'f:status': { 'f:conditions': { 'k:{"type":"Ready"}': { '.': {}, 'f:status': {}, 'f:type': {} } } } };
  // no patch strategy upstream, listType=map keyed by type
  for (const kind of ['Pod', 'Deployment', 'CustomResourceDefinition', 'CertificateSigningRequest', 'ValidatingAdmissionPolicy']) {
    t.same(fs(kind, { status: { conditions: [cond] } }), keyed, `${kind} conditions keyed by type`);
  }
  t.same(fs('Pod', { status: { hostIPs: [{ ip: '10.0.0.1' }] } }), { 'f:status': { 'f:hostIPs': {} } }, 'Pod hostIPs atomic');
  t.same(fs('Pod', { status: { podIPs: [{ ip: '10.0.0.1' }] } }),
    { 'f:status': { 'f:podIPs': { 'k:{"ip":"10.0.0.1"}': { '.': {}, 'f:ip': {} } } } }, 'Pod podIPs keyed');
  t.same(fs('Pod', { spec: { containers: [{ name: 'a', resources: { claims: [{ name: 'gpu' }] } }] } }), {
    'f:spec': { 'f:containers': { 'k:{"name":"a"}': {
      '.': {}, 'f:name': {}, 'f:resources': { 'f:claims': { 'k:{"name":"gpu"}': { '.': {}, 'f:name': {} } } },
    } } },
  }, 'ResourceRequirements.claims keyed by name');
  t.same(fs('EndpointSlice', { endpoints: [{ addresses: ['10.0.0.1'] }] }), { 'f:endpoints': {} }, 'EndpointSlice endpoints atomic');
  t.same(fs('ValidatingAdmissionPolicyBinding', { spec: { validationActions: ['Deny'] } }),
    { 'f:spec': { 'f:validationActions': { 'v:"Deny"': {} } } }, 'validationActions a set');
  t.same(fs('FlowSchema', { spec: { rules: [{ resourceRules: [{ verbs: ['get'] }] }] } }), { 'f:spec': { 'f:rules': {} } }, 'rules atomic');
  t.same(fs('ResourceClaim', { status: { devices: [{ driver: 'd', pool: 'p', device: 'x', conditions: [cond] }] } }), {
    'f:status': { 'f:devices': { 'k:{"device":"x","driver":"d","pool":"p"}': {
      '.': {}, 'f:device': {}, 'f:driver': {}, 'f:pool': {},
      'f:conditions': { 'k:{"type":"Ready"}': { '.': {}, 'f:status': {}, 'f:type': {} } },
    } } },
  }, 'ResourceClaim status.devices keyed, their conditions keyed by type');
  t.same(fs('PodDisruptionBudget', { spec: { selector: { matchLabels: { a: '1' } } } }), { 'f:spec': { 'f:selector': {} } });
  t.same(fs('Service', { spec: { selector: { a: '1' } } }), { 'f:spec': { 'f:selector': {} } }, 'Service selector atomic');
  t.same(fs('Node', { metadata: { labels: { a: '1' } } }), { 'f:metadata': { 'f:labels': { 'f:a': {} } } });
  // custom resources: every list atomic
  t.same(toFieldsV1(toFieldSet({ status: { conditions: [cond] } }, shapesFor(undefined))), { 'f:status': { 'f:conditions': {} } });
});

t.test('compare: a changed condition of a keyed list is one item, of an atomic list the whole list', async (t) => {
  const before = { status: { conditions: [{ type: 'A', status: 'False' }, { type: 'B', status: 'True' }] } };
  const after = { status: { conditions: [{ type: 'A', status: 'True' }, { type: 'B', status: 'True' }] } };
  t.same(paths(compare(before, after, shapesFor('CustomResourceDefinition')).changed).map(pathString),
    ['.status.conditions[type="A"].status']);
  t.same(paths(compare(before, after, shapesFor('Job')).changed).map(pathString), ['.status.conditions']);
});

t.test('every located upstream field: PATCH metadata follows the patch strategy, apply the list type', async (t) => {
  let n = 0;
  for (const [type, locations] of Object.entries(APPLY_LOCATIONS)) {
    t.ok(PATCH_EXTENSIONS[type], `${type} is in patch-extensions.ts`);
    for (const loc of locations) {
      const [k, prefix] = loc.split(':') as [string, string];
      const kind = k === '*' ? 'Pod' : k;
      for (const [field, spec] of Object.entries(PATCH_EXTENSIONS[type] ?? {})) {
        const path = [...(prefix ? prefix.split('.') : []), field];
        const ext = extensionsOf(spec);
        const strategy = ext['x-kubernetes-patch-strategy'] as string | undefined;
        const pm = builtinPatchMeta(kind)(path);
        const name = `${kind} ${path.join('.')} (${spec})`;
        if (strategy?.startsWith('merge')) {
          t.match(pm, { strategy: 'merge', key: ext['x-kubernetes-patch-merge-key'] }, `PATCH merges ${name}`);
        } else if (strategy === 'replace') {
          t.match(pm, { strategy: 'replace' }, `PATCH replaces ${name}`);
        } else if (strategy === undefined && ext['x-kubernetes-list-type']) {
          t.not(pm?.strategy, 'merge', `PATCH replaces ${name}`);
        }
        const listType = ext['x-kubernetes-list-type'];
        if (listType) t.match(applyListType(kind, path), { type: listType }, `apply list type of ${name}`);
        n++;
      }
    }
  }
  t.ok(n > 60);
});
