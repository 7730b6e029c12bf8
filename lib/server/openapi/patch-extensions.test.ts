import t from 'tap';
import { generateDefinitions, type Schema } from './k8s-source.ts';
import { builtinPatchMeta, retainKeyMaps } from '../patch/patch-meta.ts';
import { ATOMIC_STRUCTS, extensionsOf, PATCH_EXTENSIONS } from './patch-extensions.ts';

// Values checked against the upstream struct tags and markers (k8s.io/api, apimachinery meta/v1, apiextensions-apiserver).
const MAP = 'x-kubernetes-list-type';
const KEYS = 'x-kubernetes-list-map-keys';
const STRATEGY = 'x-kubernetes-patch-strategy';
const MERGE_KEY = 'x-kubernetes-patch-merge-key';

t.test('notations', async (t) => {
  t.same(extensionsOf('lset'), { [MAP]: 'set' });
  t.same(extensionsOf('rep'), { [STRATEGY]: 'replace' });
  t.same(extensionsOf('amap'), { 'x-kubernetes-map-type': 'atomic' });
  t.same(extensionsOf('gmap'), { 'x-kubernetes-map-type': 'granular' });
  t.same(extensionsOf('map:driver+device+pool+shareID')[KEYS], ['driver', 'device', 'pool', 'shareID']);
  const known = /^(r|rep|amap|gmap|set|lset|(m|mr|m!|map):[\w-]+(\+[\w-]+)*)$/;
  for (const [type, fields] of Object.entries(PATCH_EXTENSIONS)) for (const [f, spec] of Object.entries(fields)) t.match(spec, known, `${type}.${f}`);
});

t.test('upstream values in the generated schemas', async (t) => {
  const d = generateDefinitions(['v1', 'apps/v1', 'batch/v1', 'discovery.k8s.io/v1', 'policy/v1', 'apiextensions.k8s.io/v1', 'apiregistration.k8s.io/v1']);
  const field = (type: string, f: string): Schema => {
    const p = (d.schemas[type]?.properties as Record<string, Schema> | undefined)?.[f];
    if (!p) throw new Error(`no ${type}.${f}`);
    return p;
  };
  const core = (n: string) => `io.k8s.api.core.v1.${n}`;
  const cases: [string, string, Schema][] = [
    [core('PodSpec'), 'containers', { [MAP]: 'map', [KEYS]: ['name'], [STRATEGY]: 'merge', [MERGE_KEY]: 'name' }],
    [core('PodSpec'), 'volumes', { [MAP]: 'map', [KEYS]: ['name'], [STRATEGY]: 'merge,retainKeys', [MERGE_KEY]: 'name' }],
    [core('PodSpec'), 'topologySpreadConstraints', { [KEYS]: ['topologyKey', 'whenUnsatisfiable'], [MERGE_KEY]: 'topologyKey' }],
    [core('PodSpec'), 'nodeSelector', { 'x-kubernetes-map-type': 'atomic' }],
    [core('Container'), 'ports', { [MAP]: 'map', [KEYS]: ['containerPort', 'protocol'], [STRATEGY]: 'merge', [MERGE_KEY]: 'containerPort' }],
    [core('Container'), 'volumeMounts', { [KEYS]: ['mountPath'], [MERGE_KEY]: 'mountPath' }],
    [core('EphemeralContainer'), 'env', { [KEYS]: ['name'], [MERGE_KEY]: 'name' }],
    [core('ServiceSpec'), 'ports', { [MAP]: 'map', [KEYS]: ['port', 'protocol'], [STRATEGY]: 'merge', [MERGE_KEY]: 'port' }],
    [core('ServiceSpec'), 'selector', { 'x-kubernetes-map-type': 'atomic' }],
    [core('PodStatus'), 'conditions', { [MAP]: 'map', [KEYS]: ['type'], [STRATEGY]: 'merge', [MERGE_KEY]: 'type' }],
    [core('PodStatus'), 'hostIPs', { [MAP]: 'atomic', [STRATEGY]: 'merge', [MERGE_KEY]: 'ip' }],
    [core('NodeSpec'), 'podCIDRs', { [MAP]: 'set', [STRATEGY]: 'merge' }],
    [core('ResourceRequirements'), 'claims', { [MAP]: 'map', [KEYS]: ['name'] }],
    ['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'ownerReferences', { [MAP]: 'map', [KEYS]: ['uid'], [STRATEGY]: 'merge', [MERGE_KEY]: 'uid' }],
    ['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'finalizers', { [MAP]: 'set', [STRATEGY]: 'merge' }],
    ['io.k8s.api.apps.v1.DeploymentSpec', 'strategy', { [STRATEGY]: 'retainKeys' }],
    ['io.k8s.api.apps.v1.DeploymentStatus', 'conditions', { [KEYS]: ['type'], [MERGE_KEY]: 'type' }],
    ['io.k8s.api.batch.v1.JobStatus', 'conditions', { [MAP]: 'atomic', [STRATEGY]: 'merge', [MERGE_KEY]: 'type' }],
    ['io.k8s.api.discovery.v1.Endpoint', 'addresses', { [MAP]: 'set' }],
    ['io.k8s.api.policy.v1.PodDisruptionBudgetSpec', 'selector', { [STRATEGY]: 'replace' }],
  ];
  for (const [type, f, want] of cases) t.match(field(type, f), want, `${type}.${f}`);
  // extensions upstream leaves off
  t.notOk(field('io.k8s.api.discovery.v1.Endpoint', 'addresses')[STRATEGY], 'EndpointSlice addresses: a set without patch strategy');
  t.notOk(field('io.k8s.api.discovery.v1.EndpointSlice', 'endpoints')[MAP], 'EndpointSlice endpoints: atomic');
  t.notOk(field('io.k8s.api.apps.v1.StatefulSetSpec', 'updateStrategy')[STRATEGY], 'no retainKeys on StatefulSet updateStrategy');
  t.notOk(field(core('ResourceRequirements'), 'claims')[STRATEGY], 'resources.claims has no patch strategy');
  t.notOk(field(core('PodSpec'), 'tolerations')[MAP], 'tolerations atomic');
  t.equal(d.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector']?.['x-kubernetes-map-type'], 'atomic');
  t.ok(ATOMIC_STRUCTS.includes('io.k8s.api.core.v1.LocalObjectReference'));
  const crd = d.schemas['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus'];
  t.match((crd!.properties as Record<string, Schema>).conditions, { [MAP]: 'map', [KEYS]: ['type'] });
});

t.test('the PATCH handler metadata agrees on the verified lists', async (t) => {
  const at = (kind: string, path: string) => builtinPatchMeta(kind)(path.split('.'));
  t.match(at('Pod', 'spec.containers'), { strategy: 'merge', key: 'name' });
  t.match(at('Deployment', 'spec.template.spec.containers.ports'), { strategy: 'merge', key: 'containerPort' });
  t.match(at('Deployment', 'spec.template.spec.volumes'), { strategy: 'merge', key: 'name', retainKeys: true });
  t.match(at('Service', 'spec.ports'), { strategy: 'merge', key: 'port' });
  t.match(at('Pod', 'metadata.ownerReferences'), { strategy: 'merge', key: 'uid' });
  t.match(at('Pod', 'status.conditions'), { strategy: 'merge', key: 'type' });
  t.match(at('Pod', 'spec.imagePullSecrets'), { strategy: 'merge', key: 'name' });
  t.notOk(at('ServiceAccount', 'imagePullSecrets')?.strategy === 'merge', 'ServiceAccount imagePullSecrets atomic');
  t.match(at('ServiceAccount', 'secrets'), { strategy: 'merge', key: 'name' });
  t.match(at('ValidatingWebhookConfiguration', 'webhooks'), { strategy: 'merge', key: 'name' });
  t.match(at('MutatingWebhookConfiguration', 'webhooks.matchConditions'), { strategy: 'merge', key: 'name' });
  t.match(at('CSINode', 'spec.drivers'), { strategy: 'merge', key: 'name' });
  t.notOk(at('EndpointSlice', 'endpoints'), 'EndpointSlice endpoints atomic');
  t.notOk(at('Pod', 'spec.tolerations'), 'tolerations atomic');
  t.same(retainKeyMaps, ['spec.strategy']);
});
