import t from 'tap';
import {
  compare, difference, fromFieldsV1, intersection, paths, pathString, removeFields, shapesFor, toFieldSet, toFieldsV1, union,
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
