// The real kubectl against the in-process API server: client-side apply (OpenAPI v3 + strategic merge patch),
// explain, protobuf creates, autoscale, and a CRD with custom resources and printer columns.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { KUBECTL } from './harness.ts';
import { startKubectlApi } from './kubectl-api.ts';

t.test('kubectl apply, explain, protobuf creates, CRDs', { skip: !fs.existsSync(KUBECTL) && 'no kubectl' }, async (t) => {
  const k = await startKubectlApi(t, 'tsk-kubectl-ext-');
  const { dir, file } = k;
  const kubectl = async (...args: string[]) => {
    const r = await k.kubectl(...args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.err}${r.out}`);
    return r.out;
  };

  // Client-side apply: create, then a strategic merge patch with $setElementOrder and the last-applied annotation.
  const dep = (image: string) => file('dep.yaml', `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "${image}", ports: [{containerPort: 80}]}
      - {name: side, image: busybox}
`);
  t.match(await kubectl('apply', '-f', dep('nginx:1.26')), /deployment.apps\/web created/);
  t.match(await kubectl('apply', '-f', dep('nginx:1.27')), /deployment.apps\/web configured/);
  const applied = JSON.parse(await kubectl('get', 'deployment', 'web', '-o', 'json'));
  t.same(applied.spec.template.spec.containers.map((c: { image: string }) => c.image), ['nginx:1.27', 'busybox']);
  t.match(applied.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], /nginx:1.27/);
  t.equal(applied.spec.strategy.rollingUpdate.maxSurge, '25%');
  t.match(await kubectl('get', 'deployments', '-o', 'wide'), /web\s+0\/2\s+0\s+0\s+\S+\s+nginx,side\s+nginx:1.27,busybox\s+app=web/);

  // Removing a container from the file: kubectl sends {"$patch":"delete","name":"side"} with $setElementOrder.
  fs.writeFileSync(dep('nginx:1.27'), fs.readFileSync(path.join(dir, 'dep.yaml'), 'utf8').replace(/      - \{name: side.*\n/, ''));
  await kubectl('apply', '-f', path.join(dir, 'dep.yaml'));
  t.same(JSON.parse(await kubectl('get', 'deployment', 'web', '-o', 'json')).spec.template.spec.containers.map((c: { name: string }) => c.name), ['nginx']);
  // Switching to Recreate: the schema's retainKeys makes kubectl send $retainKeys, which drops the defaulted rollingUpdate.
  fs.writeFileSync(path.join(dir, 'dep.yaml'), fs.readFileSync(path.join(dir, 'dep.yaml'), 'utf8').replace('  replicas: 2\n', '  replicas: 2\n  strategy: {type: Recreate}\n'));
  await kubectl('apply', '-f', path.join(dir, 'dep.yaml'));
  t.same(JSON.parse(await kubectl('get', 'deployment', 'web', '-o', 'json')).spec.strategy, { type: 'Recreate' });
  await kubectl('set', 'image', 'deployment/web', 'nginx=nginx:1.28');
  t.equal(JSON.parse(await kubectl('get', 'deployment', 'web', '-o', 'json')).spec.template.spec.containers[0].image, 'nginx:1.28');

  // A manifest using most fields of the common kinds passes strict field validation; a typo does not.
  const rich = path.join(import.meta.dirname, 'kubectl-extensions-rich.yaml');
  t.match(await kubectl('apply', '-f', rich), /deployment.apps\/rich created[^]*lease.coordination.k8s.io\/rich created/);
  t.match(await kubectl('apply', '-f', rich), /deployment.apps\/rich unchanged/);
  const typo = file('typo.yaml', fs.readFileSync(rich, 'utf8').replace('workingDir: /srv', 'workingDir: /srv\n        imagee: x'));
  await t.rejects(kubectl('apply', '-f', typo), /strict decoding error: unknown field "spec.template.spec.containers\[0\].imagee"/);

  t.match(await kubectl('explain', 'pod.spec.containers'), /image\s+<string>/);
  t.match(await kubectl('explain', 'deployment.spec.strategy'), /rollingUpdate\s+<RollingUpdateDeployment>/);

  // Protobuf bodies.
  await kubectl('create', 'namespace', 'team');
  await kubectl('create', 'configmap', 'cfg', '-n', 'team', '--from-literal=a=1');
  await kubectl('create', 'secret', 'generic', 'sec', '-n', 'team', '--from-literal=p=s3cret');
  await kubectl('create', 'deployment', 'api', '-n', 'team', '--image=nginx:1.27', '--port=8080', '--replicas=3');
  await kubectl('autoscale', 'deployment', 'api', '-n', 'team', '--max=5', '--cpu-percent=70');
  t.equal(JSON.parse(await kubectl('get', 'cm', 'cfg', '-n', 'team', '-o', 'json')).data.a, '1');
  t.equal(Buffer.from(JSON.parse(await kubectl('get', 'secret', 'sec', '-n', 'team', '-o', 'json')).data.p, 'base64').toString(), 's3cret');
  const api = JSON.parse(await kubectl('get', 'deploy', 'api', '-n', 'team', '-o', 'json'));
  t.equal(api.spec.replicas, 3);
  t.same(api.spec.template.spec.containers[0].ports, [{ containerPort: 8080, protocol: 'TCP' }]);
  t.match(await kubectl('get', 'hpa', '-n', 'team'), /api\s+Deployment\/api\s+cpu: <unknown>\/70%\s+1\s+5\s+0/);
  await kubectl('create', 'priorityclass', 'high', '--value=1000');
  t.match(await kubectl('get', 'pc', 'high'), /high\s+1000\s+false/);
  await kubectl('create', 'job', 'once', '-n', 'team', '--image=busybox', '--', 'true');
  t.match(await kubectl('get', 'jobs', '-n', 'team'), /once\s+Running\s+0\/1/);

  // CRD, custom resources, printer columns, merge-patch apply.
  const crd = path.join(import.meta.dirname, 'widget-crd.yaml');
  await kubectl('apply', '-f', crd);
  t.match(await kubectl('apply', '-f', crd), /unchanged/);
  await kubectl('wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=60s');
  const w = (size: number) => file('w.yaml', `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: ${size}}\n`);
  t.match(await kubectl('apply', '-f', w(3)), /widget.example.com\/w1 created/);
  t.match(await kubectl('apply', '-f', w(4)), /widget.example.com\/w1 configured/);
  t.match(await kubectl('get', 'wd'), /NAME\s+SIZE\s+COLOR\s+AGE\s*\nw1\s+4\s+red\s+\S+/);
  t.match(await kubectl('explain', 'widget.spec'), /size\s+<integer>/);
  await kubectl('delete', 'crd', 'widgets.example.com', '--timeout=60s');
});
