// End-to-end: server-side apply field ownership as the real kubectl 1.32 sees it, against an in-process API server
// on port 0: apply, a conflicting `kubectl edit` and `kubectl scale`, the conflict kubectl prints, --force-conflicts,
// and managedFields in `get --show-managed-fields`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { startKubectlApi } from './kubectl-api.ts';

const { dir, run: kubectl, ok } = await startKubectlApi(t, 'tsk-ssa-e2e-', { crds: false, requestTimeout: '30s' });

const manifest = (replicas: number, image = 'nginx:1.27') => {
  const p = join(dir, 'web.yaml');
  writeFileSync(p, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${image}
        ports:
        - containerPort: 80
`);
  return p;
};

t.test('apply --server-side, kubectl edit, conflict, --force-conflicts, scale, managed fields', async (t) => {
  t.match(await ok(t, ['apply', '--server-side', '-f', manifest(1)]), /deployment.apps\/web serverside-applied/);

  // kubectl edit with an editor that changes the replica count
  const editor = join(dir, 'editor.sh');
  writeFileSync(editor, '#!/bin/sh\nsed -i "s/^  replicas: 1$/  replicas: 3/" "$1"\n', { mode: 0o755 });
  t.match(await ok(t, ['edit', 'deployment', 'web'], { KUBE_EDITOR: editor, EDITOR: editor }), /deployment.apps\/web edited/);
  t.equal(await ok(t, ['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']), '3');

  const conflict = await kubectl(['apply', '--server-side', '-f', manifest(1)]);
  t.not(conflict.code, 0, 'apply with another replica count fails');
  t.match(conflict.err, 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');
  t.match(conflict.err, /--force-conflicts/, 'kubectl explains how to resolve it');

  t.match(await ok(t, ['apply', '--server-side', '-f', manifest(3, 'nginx:1.28')]), /serverside-applied/, 'the same value is shared: no conflict');
  t.match(await ok(t, ['apply', '--server-side', '--force-conflicts', '-f', manifest(1, 'nginx:1.28')]), /serverside-applied/);
  t.equal(await ok(t, ['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']), '1');

  t.match(await ok(t, ['scale', 'deployment', 'web', '--replicas=2']), /scaled/);
  const afterScale = await kubectl(['apply', '--server-side', '-f', manifest(1, 'nginx:1.28')]);
  t.not(afterScale.code, 0);
  t.match(afterScale.err, /Apply failed with 1 conflict: conflict with "kubectl[^"]*" with subresource "scale" using apps\/v1: \.spec\.replicas/);

  const y = await ok(t, ['get', 'deployment', 'web', '-o', 'yaml', '--show-managed-fields']);
  t.match(y, /managedFields:/);
  t.match(y, /manager: kubectl\n\s+operation: Apply/);
  t.match(y, /k:\{"name":"web"\}:/);
  t.match(y, /k:\{"containerPort":80,"protocol":"TCP"\}:/);
  t.match(y, /subresource: scale/);
  t.notMatch(await ok(t, ['get', 'deployment', 'web', '-o', 'yaml']), /managedFields:/, 'hidden without --show-managed-fields');

  // fields dropped from the applied configuration go, unless another manager owns them
  await ok(t, ['label', 'deployment', 'web', 'team=a']);
  writeFileSync(join(dir, 'small.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.28\n');
  await ok(t, ['apply', '--server-side', '--force-conflicts', '-f', join(dir, 'small.yaml')]);
  const labels = JSON.parse(await ok(t, ['get', 'deployment', 'web', '-o', 'jsonpath={.metadata.labels}']));
  t.same(labels, { team: 'a' }, 'app label removed (only kubectl applied it), team label kept (kubectl-label owns it)');
  const ports = await ok(t, ['get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].ports}']);
  t.equal(ports, '', 'the port the manager no longer applies is gone');
});

t.test('events.k8s.io/v1 events: the same objects as core/v1 events', async (t) => {
  const ev = join(dir, 'ev.yaml');
  writeFileSync(ev, `apiVersion: events.k8s.io/v1
kind: Event
metadata:
  name: web.1
  namespace: default
eventTime: "2026-01-01T00:00:00.000000Z"
regarding: {kind: Deployment, name: web, namespace: default, apiVersion: apps/v1}
reason: Tested
note: hello from events.k8s.io
type: Normal
action: Test
reportingController: e2e
reportingInstance: e2e-1
`);
  t.match(await ok(t, ['create', '-f', ev]), /event.events.k8s.io\/web.1 created/);
  t.equal(await ok(t, ['get', 'events', 'web.1', '-o', 'jsonpath={.message}']), 'hello from events.k8s.io', 'core/v1 view');
  t.equal(await ok(t, ['get', 'events.v1.events.k8s.io', 'web.1', '-o', 'jsonpath={.note}/{.regarding.name}']), 'hello from events.k8s.io/web');
  const table = await ok(t, ['get', 'events.v1.events.k8s.io']);
  t.match(table, /LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
  t.match(table, /Normal\s+Tested\s+deployment\/web\s+hello from events.k8s.io/);
  t.match(await ok(t, ['get', 'events.v1.events.k8s.io', '--field-selector', 'regarding.name=web', '-o', 'name']), /event.events.k8s.io\/web.1/);
  t.match(await ok(t, ['events', '--for', 'deployment/web']), /Tested\s+.*hello from events.k8s.io/);
  t.match(await ok(t, ['explain', 'events', '--api-version', 'events.k8s.io/v1']), /GROUP:\s+events.k8s.io\n.*\n[^]*regarding\s+<ObjectReference>/);
  t.match(await ok(t, ['explain', 'events.regarding', '--api-version', 'events.k8s.io/v1']), /FIELD: regarding <ObjectReference>/);
  t.match(await ok(t, ['api-resources', '--api-group', 'events.k8s.io']), /events\s+ev\s+events.k8s.io\/v1\s+true\s+Event/);
  t.match(await ok(t, ['patch', 'events.v1.events.k8s.io', 'web.1', '--type', 'merge', '-p', '{"note":"patched"}']), /patched/);
  t.equal(await ok(t, ['get', 'events', 'web.1', '-o', 'jsonpath={.message}']), 'patched');
});
