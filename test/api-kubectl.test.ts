// End-to-end: the real kubectl 1.32 against an in-process API server on port 0 (plain HTTP on 127.0.0.1).
import { spawn } from 'node:child_process';
import t, { type Test } from 'tap';
import { KUBECTL } from './harness.ts';
import { startKubectlApi } from './kubectl-api.ts';

const { base, env, kubectl, ok: okArgs, file } = await startKubectlApi(t, 'tsk-api-kubectl-', { crds: false, requestTimeout: '30s' });
const ok = (t: Test, ...args: string[]) => okArgs(t, args);

t.test('get, create, output formats', async (t) => {
  const ns = await ok(t, 'get', 'ns');
  t.match(ns, /^NAME\s+STATUS\s+AGE\n/);
  t.match(ns, /kube-system\s+Active\s+\d+s/);
  t.match(await ok(t, 'get', 'svc', '-A', '-o', 'wide'), /NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR\ndefault\s+kubernetes\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+443\/TCP/);
  t.match(await ok(t, 'create', 'namespace', 'e2e'), /namespace\/e2e created/); // protobuf body
  t.match(await ok(t, 'create', 'configmap', 'c1', '-n', 'e2e', '--from-literal=a=b'), /configmap\/c1 created/);
  t.match(await ok(t, 'create', 'secret', 'generic', 's1', '-n', 'e2e', '--from-literal=p=q'), /secret\/s1 created/);
  t.match(await ok(t, 'get', 'secret', 's1', '-n', 'e2e'), /s1\s+Opaque\s+1\s+/);
  const y = await ok(t, 'get', 'cm', 'c1', '-n', 'e2e', '-o', 'yaml');
  t.match(y, /kind: ConfigMap/);
  t.match(y, /resourceVersion: "\d+"/);
  const j = JSON.parse(await ok(t, 'get', 'cm', '-n', 'e2e', '-o', 'json'));
  t.equal(j.kind, 'List');
  t.equal(j.items[0].data.a, 'b');
  t.match(await ok(t, 'run', 'p1', '-n', 'e2e', '--image=nginx:1.25'), /pod\/p1 created/);
  t.match(await ok(t, 'get', 'pods', '-n', 'e2e', '-o', 'wide'), /NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\np1\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>/);
  t.match(await ok(t, 'get', 'pods', '-A'), /NAMESPACE\s+NAME\s+READY.*\ne2e\s+p1\s+0\/1\s+Pending/);
  t.match(await ok(t, 'get', 'pods', '-n', 'e2e', '-o', 'name'), /^pod\/p1$/m);
  t.match(await ok(t, 'get', 'pods', '-n', 'e2e', '--sort-by', '.metadata.name'), /p1/);
  t.match((await kubectl('get', 'pods', '-n', 'default')).err, /No resources found in default namespace/);
});

t.test('label, annotate, patch, apply, replace, scale, delete', async (t) => {
  await ok(t, 'label', 'pod', 'p1', '-n', 'e2e', 'x=y');
  await ok(t, 'annotate', 'pod', 'p1', '-n', 'e2e', 'note=hello');
  await ok(t, 'patch', 'pod', 'p1', '-n', 'e2e', '-p', '{"metadata":{"labels":{"s":"1"}}}');
  await ok(t, 'patch', 'pod', 'p1', '-n', 'e2e', '--type=merge', '-p', '{"metadata":{"labels":{"m":"1"}}}');
  await ok(t, 'patch', 'pod', 'p1', '-n', 'e2e', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/j","value":"1"}]');
  t.match(await ok(t, 'get', 'pod', 'p1', '-n', 'e2e', '--show-labels'), /j=1,m=1,run=p1,s=1,x=y/);
  t.match(await ok(t, 'get', 'pod', 'p1', '-n', 'e2e', '-o', 'jsonpath={.metadata.annotations.note}'), /^hello$/);
  t.match(await ok(t, 'set', 'image', 'pod/p1', '-n', 'e2e', 'p1=nginx:1.26'), /image updated/);
  t.equal(await ok(t, 'get', 'pod', 'p1', '-n', 'e2e', '-o', 'jsonpath={.spec.containers[0].image}'), 'nginx:1.26');

  const cm = (v: string) => file('cm.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: e2e\ndata:\n  k: ${v}\n`);
  t.match(await ok(t, 'apply', '-f', cm('one')), /configmap\/applied created/);
  t.match(await ok(t, 'apply', '-f', cm('two')), /configmap\/applied configured/);
  t.equal(await ok(t, 'get', 'cm', 'applied', '-n', 'e2e', '-o', 'jsonpath={.data.k}'), 'two');
  t.match(await ok(t, 'apply', '--server-side', '-f', cm('three')), /serverside-applied/);
  t.match(await ok(t, 'apply', '--server-side', '-f', file('ssa.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa-new\n  namespace: e2e\ndata:\n  a: b\n')), /serverside-applied/);
  t.match(await ok(t, 'replace', '-f', cm('four')), /configmap\/applied replaced/);
  t.equal(await ok(t, 'get', 'cm', 'applied', '-n', 'e2e', '-o', 'jsonpath={.data.k}'), 'four');
  t.match(await ok(t, 'delete', '-f', cm('four')), /configmap "applied" deleted/);

  t.match(await ok(t, 'create', 'deployment', 'd1', '-n', 'e2e', '--image=nginx'), /deployment.apps\/d1 created/);
  t.match(await ok(t, 'scale', 'deployment', 'd1', '-n', 'e2e', '--replicas=3'), /scaled/);
  t.equal(await ok(t, 'get', 'deploy', 'd1', '-n', 'e2e', '-o', 'jsonpath={.spec.replicas}'), '3');
  await ok(t, 'create', '-f', file('rc.yaml', 'apiVersion: v1\nkind: ReplicationController\nmetadata: {name: rc1, namespace: e2e}\nspec:\n  replicas: 1\n  template:\n    metadata: {labels: {app: rc1}}\n    spec: {containers: [{name: c, image: busybox}]}\n'));
  await ok(t, 'scale', 'rc', 'rc1', '-n', 'e2e', '--replicas=2');
  t.match(await ok(t, 'get', 'rc', '-n', 'e2e'), /rc1\s+2\s+0\s+0/);

  t.match(await ok(t, 'delete', 'pod', 'p1', '-n', 'e2e'), /pod "p1" deleted/); // unbound: removed at once
  t.match(await ok(t, 'delete', 'cm', '-n', 'e2e', '-l', 'nothing=here'), /No resources found/);
});

t.test('errors as kubectl prints them', async (t) => {
  let r = await kubectl('get', 'pod', 'nope', '-n', 'e2e');
  t.equal(r.code, 1);
  t.match(r.err, /Error from server \(NotFound\): pods "nope" not found/);
  r = await kubectl('create', 'namespace', 'e2e');
  t.match(r.err, /Error from server \(AlreadyExists\): namespaces "e2e" already exists/);
  r = await kubectl('create', 'namespace', 'Bad_Name');
  t.match(r.err, /The Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"/);
  r = await kubectl('create', '-f', file('bad.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad, namespace: e2e}\nspec: {containers: [{name: c}]}\n'), '--validate=false');
  t.match(r.err, /The Pod "bad" is invalid: spec.containers\[0\].image: Required value/);
  const typo = file('typo.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo, namespace: e2e}\ndatta: {a: b}\n');
  r = await kubectl('apply', '-f', typo);
  t.match(r.err, /strict decoding error: unknown field "datta"/);
  r = await kubectl('apply', '-f', typo, '--validate=warn');
  t.equal(r.code, 0);
  t.match(r.err, /Warning: unknown field "datta"/);
  r = await kubectl('get', 'frobnicators');
  t.match(r.err, /the server doesn't have a resource type "frobnicators"/);
  r = await kubectl('get', '--raw', '/api/v1/namespaces/e2e/pods/x/y/z');
  t.match(r.err, /NotFound/);
});

t.test('get -w streams Table rows', async (t) => {
  const child = spawn(KUBECTL, [...base, 'get', 'cm', '-n', 'e2e', '-w'], { env });
  let out = '';
  child.stdout.on('data', (d) => { out += String(d); });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const until = async (re: RegExp) => {
    for (let i = 0; i < 300 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    t.match(out, re);
  };
  await until(/NAME\s+DATA\s+AGE/);
  await ok(t, 'create', 'configmap', 'watched', '-n', 'e2e', '--from-literal=a=1');
  await until(/watched\s+1\s+\d+s/);
  await ok(t, 'label', 'cm', 'watched', '-n', 'e2e', 'l=2');
  await ok(t, 'delete', 'cm', 'watched', '-n', 'e2e');
  await until(/(watched\s+1\s+\d+s[\s\S]*){3}/);
  child.kill('SIGTERM');
});
