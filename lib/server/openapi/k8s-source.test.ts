import t from 'tap';
import { builtinStrategies } from '../resources/index.ts';
import { definitions } from './definitions.ts';
import { buildOpenApi, swaggerV2Text, v2Text, V2_INFO } from './documents.ts';
import { generateDefinitions, upstreamName, type Schema } from './k8s-source.ts';
import { extensionsOf } from './patch-extensions.ts';
import { decodeSwaggerV2, encodeSwaggerV2 } from './v2-proto.ts';

t.test('upstream schema names', async (t) => {
  t.equal(upstreamName('IoK8sApiAppsV1Deployment'), 'io.k8s.api.apps.v1.Deployment');
  t.equal(upstreamName('IoK8sApiCoreV1VolumeMount'), 'io.k8s.api.core.v1.VolumeMount');
  t.equal(upstreamName('IoK8sApiAutoscalingV2HorizontalPodAutoscaler'), 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler');
  t.equal(upstreamName('IoK8sApimachineryPkgApisMetaV1ObjectMeta'), 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  t.equal(upstreamName('IoK8sApimachineryPkgApiResourceQuantity'), 'io.k8s.apimachinery.pkg.api.resource.Quantity');
  t.equal(upstreamName('IoK8sApiextensionsApiserverPkgApisApiextensionsV1JSONSchemaProps'), 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps');
  t.equal(upstreamName('IoK8sKubeAggregatorPkgApisApiregistrationV1APIService'), 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService');
  t.equal(upstreamName('IoK8sApiFlowcontrolV1beta3FlowSchema'), 'io.k8s.api.flowcontrol.v1beta3.FlowSchema');
});

t.test('patch extension notation', async (t) => {
  t.same(extensionsOf('m:containerPort+protocol'), {
    'x-kubernetes-list-map-keys': ['containerPort', 'protocol'], 'x-kubernetes-list-type': 'map',
    'x-kubernetes-patch-merge-key': 'containerPort', 'x-kubernetes-patch-strategy': 'merge',
  });
  t.same(extensionsOf('r'), { 'x-kubernetes-patch-strategy': 'retainKeys' });
  t.same(extensionsOf('set'), { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' });
  t.equal(extensionsOf('mr:name')['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  t.equal(extensionsOf('m!:type')['x-kubernetes-list-type'], 'atomic');
  t.same(extensionsOf('map:name'), { 'x-kubernetes-list-map-keys': ['name'], 'x-kubernetes-list-type': 'map' });
});

t.test('definitions generated from the package', async (t) => {
  const d = generateDefinitions(['v1', 'apps/v1']);
  t.match(d.source, /^kubernetes-models@/);
  t.equal(d.kinds['/v1/Pod'], 'io.k8s.api.core.v1.Pod');
  t.equal(d.kinds['apps/v1/Deployment'], 'io.k8s.api.apps.v1.Deployment');
  t.notOk(d.kinds['/v1/PodList'], 'list kinds are left out');
  const s = (n: string) => d.schemas[n]!;
  const props = (n: string) => s(n).properties as Record<string, Schema>;
  t.same(s('io.k8s.api.core.v1.Pod')['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
  t.match(s('io.k8s.api.core.v1.Container').description, /single application container/);
  t.same(s('io.k8s.api.core.v1.Container').required, ['name']);
  t.match(props('io.k8s.api.core.v1.ContainerPort').containerPort, { type: 'integer', format: 'int32' });
  t.match(props('io.k8s.api.core.v1.PodSpec').terminationGracePeriodSeconds, { type: 'integer', format: 'int64' });
  t.match(props('io.k8s.api.core.v1.PodSpec').nodeSelector, { type: 'object', additionalProperties: { type: 'string' } });
  t.same(props('io.k8s.api.core.v1.Container').imagePullPolicy!.enum, ['Always', 'IfNotPresent', 'Never']);
  t.same(props('io.k8s.api.core.v1.Container').resources!.allOf, [{ $ref: '#/components/schemas/io.k8s.api.core.v1.ResourceRequirements' }]);
  t.same(s('io.k8s.apimachinery.pkg.util.intstr.IntOrString'), { description: s('io.k8s.apimachinery.pkg.util.intstr.IntOrString').description, type: 'string', format: 'int-or-string' });
  t.match(s('io.k8s.apimachinery.pkg.apis.meta.v1.Time'), { type: 'string', format: 'date-time' });
  t.match(props('io.k8s.api.apps.v1.Deployment').apiVersion!.description, /^APIVersion defines the versioned schema/);
  t.equal(props('io.k8s.api.apps.v1.DeploymentSpec').strategy!['x-kubernetes-patch-strategy'], 'retainKeys');
  t.equal(props('io.k8s.api.apps.v1.StatefulSetSpec').volumeClaimTemplates!.type, 'array', 'inline object types are parsed');
  // the structure-only copy kept for field validation has no descriptions
  t.notOk(definitions().structure('io.k8s.api.core.v1.Container')!.description);
  t.match(definitions().text('io.k8s.api.core.v1.Container'), /single application container/);
});

t.test('v2 form of a schema', async (t) => {
  const v3 = { type: 'object', properties: { metadata: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }], description: 'm' },
    spec: { type: 'object', properties: { free: { type: 'object', properties: { a: { type: 'string' } }, 'x-kubernetes-preserve-unknown-fields': true }, n: { type: 'integer' } } } } };
  t.same(JSON.parse(v2Text(JSON.stringify(v3))), { type: 'object', properties: { metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', description: 'm' },
    spec: { type: 'object', properties: { free: { 'x-kubernetes-preserve-unknown-fields': true }, n: { type: 'integer' } } } } });
});

t.test('/openapi/v2 protobuf', async (t) => {
  const { schemas } = buildOpenApi(builtinStrategies);
  const doc = JSON.parse(swaggerV2Text(schemas)) as Schema;
  const defs = doc.definitions as Record<string, Schema>;
  const spec = defs['io.k8s.api.core.v1.PodSpec']!.properties as Record<string, Schema>;
  t.equal(spec.securityContext!.$ref, '#/definitions/io.k8s.api.core.v1.PodSecurityContext', 'allOf references become plain v2 references');
  const back = decodeSwaggerV2(encodeSwaggerV2(V2_INFO, [...schemas].map(([n, x]) => [n, v2Text(x)]))) as { swagger: string; definitions: { additional_properties: { name: string; value: Record<string, unknown> }[] } };
  t.equal(back.swagger, '2.0');
  const pod = back.definitions.additional_properties.find((x) => x.name === 'io.k8s.api.core.v1.Pod')!.value;
  t.same(pod.type, { value: ['object'] });
  const gvk = (pod.vendor_extension as { name: string; value: { yaml: string } }[]).find((x) => x.name === 'x-kubernetes-group-version-kind')!;
  t.same(JSON.parse(gvk.value.yaml), [{ group: '', kind: 'Pod', version: 'v1' }]);
  const podSpec = back.definitions.additional_properties.find((x) => x.name === 'io.k8s.api.core.v1.PodSpec')!.value as { properties: { additional_properties: { name: string; value: Record<string, unknown> }[] } };
  t.equal(podSpec.properties.additional_properties.find((x) => x.name === 'securityContext')!.value._ref, '#/definitions/io.k8s.api.core.v1.PodSecurityContext');
});
