// The real kubectl against the generated OpenAPI documents: explain prints the upstream descriptions and enums,
// `apply -f` of a `kind: List` validates (kubectl checks List items against /openapi/v2, asked for as protobuf),
// and strict field validation names unknown fields inside List items.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startApiServer } from '../lib/server/api/server.ts';

const KUBECTL = '/usr/bin/kubectl';

t.test('explain and List apply', { skip: !fs.existsSync(KUBECTL) && 'no kubectl' }, async (t) => {
  const server = await startApiServer({});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsk-openapi-kubectl-'));
  t.teardown(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  fs.writeFileSync(path.join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\n');
  const env = { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig'), HOME: dir };
  const kubectl = (...args: string[]) => new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(KUBECTL, [...args, '--server', server.url, '--cache-dir', path.join(dir, 'cache')], { env, timeout: 60_000 }, (e, out, err) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err });
    });
  });
  const file = (name: string, text: string) => { const p = path.join(dir, name); fs.writeFileSync(p, text); return p; };

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
});
