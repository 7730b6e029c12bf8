// The real kubectl against the generated OpenAPI documents: explain prints the upstream descriptions and enums,
// `apply -f` of a `kind: List` validates (kubectl checks List items against /openapi/v2, asked for as protobuf),
// and strict field validation names unknown fields inside List items, custom resources included.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { KUBECTL } from './harness.ts';
import { startKubectlApi } from './kubectl-api.ts';

t.test('explain and List apply', { skip: !existsSync(KUBECTL) && 'no kubectl' }, async (t) => {
  const { kubectl, file } = await startKubectlApi(t, 'tsk-openapi-kubectl-');

  const explain = await kubectl('explain', 'pods.spec.containers');
  t.equal(explain.code, 0, explain.err);
  t.match(explain.out, /FIELD: containers <\[\]Container>/);
  t.match(explain.out, /List of containers belonging to the pod\. Containers cannot currently be\s+added or removed/);
  t.match(explain.out, /image\t<string>\n\s+Container image name\. More info:/);
  t.match(explain.out, /name\t<string> -required-/);
  const policy = await kubectl('explain', 'pods.spec.containers.imagePullPolicy');
  t.match(policy.out, /ENUM:\s+Always\s+IfNotPresent\s+Never/);
  t.match(policy.out, /Possible enum values:/);
  t.match((await kubectl('explain', 'deployments.spec.replicas')).out, /FIELD: replicas <integer>/);

  const list = (extra = '') => file('list.yaml', `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: listed, namespace: default}
  data: {a: b}${extra}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: listed, namespace: default}
  spec:
    selector: {matchLabels: {app: listed}}
    template:
      metadata: {labels: {app: listed}}
      spec:
        containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]
`);
  const first = await kubectl('apply', '-f', list());
  t.equal(first.code, 0, first.err);
  t.match(first.out, /configmap\/listed created\ndeployment.apps\/listed created/);
  const again = await kubectl('apply', '-f', list());
  t.equal(again.code, 0, again.err);
  t.match(again.out, /configmap\/listed unchanged\ndeployment.apps\/listed unchanged/);
  const bad = await kubectl('apply', '-f', list('\n  bogus: 1'));
  t.not(bad.code, 0);
  t.match(bad.err, /unknown field "bogus"/);

  // Custom resources in a List: their schema's preserved parts stay open in /openapi/v2, the rest is checked.
  const crd = await kubectl('apply', '-f', join(import.meta.dirname, 'widget-crd.yaml'));
  t.equal(crd.code, 0, crd.err);
  t.equal((await kubectl('wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=60s')).code, 0);
  const widgets = (spec: string) => file('widgets.yaml', `apiVersion: v1
kind: List
items:
- apiVersion: example.com/v1
  kind: Widget
  metadata: {name: w1, namespace: default}
  spec: {${spec}}
`);
  const g = await kubectl('apply', '-f', widgets('size: 3, free: {anything: 1}'));
  t.equal(g.code, 0, g.err);
  t.match(g.out, /widget.example.com\/w1 created/);
  const gBad = await kubectl('apply', '-f', widgets('size: 3, sise: 4'));
  t.not(gBad.code, 0);
  t.match(gBad.err, /unknown field "sise" in com\.example\.v1\.Widget\.spec/);
});
