import t from 'tap';
import { widgetCrdObject } from '../crd/testdata.ts';
import { customResourceStrategy } from '../crd/strategy.ts';
import { builtinStrategies } from '../resources/index.ts';
import { checkFieldValidation, unknownFields } from './field-validation.ts';

const s = (plural: string) => builtinStrategies.find((x) => x.plural === plural)!;

t.test('unknown fields', async (t) => {
  const dep = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { a: 'b' }, annotations: { x: 'y' }, selfLink: '' },
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'web' } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } },
      template: { metadata: { labels: { app: 'web' } }, spec: {
        containers: [{ name: 'c', image: 'i', imagee: 'typo', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'x' } } }],
          resources: { limits: { cpu: '1' } }, livenessProbe: { httpGet: { port: 80, path: '/' } }, securityContext: { capabilities: { add: ['X'] } } }],
        volumes: [{ name: 'v', emptyDir: {}, bogus: 1 }], affinity: { anything: { goes: true } },
      } },
    },
    status: { replicas: 0 },
    extra: 1,
  };
  t.same(unknownFields(s('deployments'), dep as never).sort(), ['extra', 'spec.template.spec.affinity.anything', 'spec.template.spec.containers[0].imagee', 'spec.template.spec.volumes[0].bogus']);
  t.same(unknownFields(s('endpointslices'), { metadata: { name: 'x' }, anything: 1 } as never), ['anything']);
  const unknownKind = { group: 'example.com', versions: ['v1'], kind: 'Thing', plural: 'things', singular: 'thing', namespaced: true };
  t.same(unknownFields(unknownKind as never, { metadata: { name: 'x' }, anything: 1 } as never), [], 'kinds without a schema report nothing');
  const managed = { metadata: { name: 'x', managedFields: [{ manager: 'm', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }] }, data: { a: 'b' } };
  t.same(unknownFields(s('configmaps'), managed as never), [], 'free-form built-in objects (FieldsV1) report nothing');
  t.same(unknownFields(s('leases'), { metadata: { name: 'x' }, spec: { holderIdentity: 'a', anything: 1 } }), ['spec.anything']);
  t.throws(() => checkFieldValidation('Strict', s('deployments'), dep as never), { code: 400, message: /strict decoding error: unknown field "spec.template.spec.containers\[0\].imagee"/ });
  t.equal(checkFieldValidation('Warn', s('deployments'), dep as never).length, 4);
  t.same(checkFieldValidation('Ignore', s('deployments'), dep as never), []);
  const cr = customResourceStrategy(widgetCrdObject());
  t.same(unknownFields(cr, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1, sise: 2, free: { any: 1 } } } as never), ['spec.sise']);
});
