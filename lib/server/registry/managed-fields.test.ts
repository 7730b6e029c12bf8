import t from 'tap';
import { ApiError, type KubeObject } from '../../client/types.ts';
import { FakeClock } from '../../clock.ts';
import { MemoryStore } from '../../store/memory.ts';
import type { WriteContext } from './admission.ts';
import { createRegistry } from './index.ts';
import type { ManagedFieldsEntry } from './managed-fields.ts';
import { patchObject } from './patch-object.ts';

function setup(t: { teardown(fn: () => unknown): void }) {
  const store = new MemoryStore();
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const { registry } = createRegistry({ store, clock });
  t.teardown(() => store.close());
  const deployments = registry.catalog.lookup('apps', 'v1', 'deployments')!;
  const namespaces = registry.catalog.lookup('', 'v1', 'namespaces')!;
  const apply = (body: KubeObject, w: WriteContext) => patchObject(registry, deployments, 'ns', 'web', 'apply', body, w);
  const patch = (body: unknown, w: WriteContext, subresource?: string) => patchObject(registry, deployments, 'ns', 'web', 'merge', body, w, subresource);
  return { registry, clock, deployments, namespaces, apply, patch };
}

const manifest = (replicas: number, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web', ...extra } },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
  },
});

const entries = (o: KubeObject) => (o.metadata.managedFields ?? []) as ManagedFieldsEntry[];
const names = (o: KubeObject) => entries(o).map((e) => `${e.manager}/${e.operation}${e.subresource ? '/' + e.subresource : ''}`);
const owns = (o: KubeObject, manager: string, path: string[]) => {
  const e = entries(o).find((x) => x.manager === manager);
  let cur: unknown = e?.fieldsV1;
  for (const p of path) cur = (cur as Record<string, unknown> | undefined)?.[p];
  return cur !== undefined;
};

t.test('apply, a conflicting update, 409, shared values, force', async (t) => {
  const { registry, namespaces, apply, patch, clock } = setup(t);
  await registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } }, { fieldManager: 'kubectl-create' });
  const created = await apply(manifest(1), { fieldManager: 'kubectl' });
  t.ok(created.created);
  t.same(names(created.object), ['kubectl/Apply']);
  t.ok(owns(created.object, 'kubectl', ['f:spec', 'f:replicas']));
  t.ok(owns(created.object, 'kubectl', ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image']));
  t.notOk(owns(created.object, 'kubectl', ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"web"}', 'f:imagePullPolicy']), 'defaults are not owned by the applier');

  clock.advance(1000);
  const edited = await patch({ spec: { replicas: 3 } }, { userAgent: 'kubectl-edit/v1.32.4 (linux/amd64) kubernetes/59526cd' });
  t.same(names(edited.object), ['kubectl/Apply', 'kubectl-edit/Update'], 'manager from the User-Agent');
  t.ok(owns(edited.object, 'kubectl-edit', ['f:spec', 'f:replicas']));
  t.notOk(owns(edited.object, 'kubectl', ['f:spec', 'f:replicas']), 'the update took the field');

  const e = await apply(manifest(1), { fieldManager: 'kubectl' }).catch((x: unknown) => x) as ApiError;
  t.equal(e.code, 409);
  t.equal(e.reason, 'Conflict');
  t.equal(e.message, 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');
  t.same((e.status as { details?: unknown }).details, { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-edit" using apps/v1', field: '.spec.replicas' }] });

  const shared = await apply(manifest(3), { fieldManager: 'kubectl' });
  t.ok(owns(shared.object, 'kubectl', ['f:spec', 'f:replicas']) && owns(shared.object, 'kubectl-edit', ['f:spec', 'f:replicas']), 'same value: co-owned');

  const forced = await apply(manifest(5), { fieldManager: 'kubectl', force: true });
  t.equal(forced.object.spec.replicas, 5);
  t.same(names(forced.object), ['kubectl/Apply'], 'forced: the other manager lost its only field');

  const bad = await patch({ spec: { replicas: 1 } }, { fieldManager: 'x', force: true }).catch((x: unknown) => x) as ApiError;
  t.equal(bad.code, 400, 'force only with apply');
  const again = await apply(manifest(5), { fieldManager: 'kubectl' });
  t.equal(again.object.metadata.resourceVersion, forced.object.metadata.resourceVersion, 're-applying the same manifest writes nothing');
});

t.test('pruning keeps fields another manager owns; two conflicts; status and scale entries', async (t) => {
  const { registry, namespaces, apply, patch, deployments } = setup(t);
  await registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
  await apply(manifest(1, { a: '1', b: '2' }), { fieldManager: 'kubectl' });
  await apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { b: '2' } } }, { fieldManager: 'other' });
  const cut = await apply(manifest(1), { fieldManager: 'kubectl' });
  t.same(cut.object.metadata.labels, { app: 'web', b: '2' }, 'a removed, b kept (co-owned by other)');
  const same = await apply(manifest(1, { b: '2' }), { fieldManager: 'other' });
  t.ok(owns(same.object, 'other', ['f:spec', 'f:replicas']) && owns(same.object, 'kubectl', ['f:spec', 'f:replicas']), 'the same values: no conflict, shared');

  const scaled = await patch({ spec: { replicas: 4 } }, { fieldManager: 'hpa' }, 'scale');
  void scaled;
  const afterScale = await registry.get(deployments, 'ns', 'web');
  t.ok(names(afterScale).includes('hpa/Update/scale'));
  await patch({ metadata: { labels: { app: 'x' } } }, { fieldManager: 'labeler' });
  const e = await apply(manifest(1), { fieldManager: 'kubectl' }).catch((x: unknown) => x) as ApiError;
  t.equal(e.code, 409);
  t.match(e.message, /^Apply failed with 2 conflicts: conflicts with "hpa" with subresource "scale" using apps\/v1:\n- \.spec\.replicas\nconflicts with "labeler" using apps\/v1:\n- \.metadata\.labels\.app$/);

  const cur = await registry.get(deployments, 'ns', 'web');
  const st = await registry.update(deployments, 'ns', 'web', { ...cur, status: { replicas: 4 } }, { fieldManager: 'ctrl' }, 'status');
  t.ok(names(st.object).includes('ctrl/Update/status'));
  t.ok(owns(st.object, 'ctrl', ['f:status', 'f:replicas']));
});

t.test('client-provided managedFields replace the stored ones; [{}] clears them', async (t) => {
  const { registry, namespaces } = setup(t);
  const ns = await registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns', labels: { a: '1' } } }, { userAgent: 'kubectl/v1.32.4 (linux/amd64)' });
  t.same(names(ns), ['kubectl/Update']);
  const moved = await registry.update(namespaces, undefined, 'ns', {
    ...ns, metadata: { ...ns.metadata, managedFields: [{ ...entries(ns)[0], manager: 'kubectl', operation: 'Apply' }] },
  }, { fieldManager: 'kubectl-client-side-apply' });
  t.same(names(moved.object), ['kubectl/Apply'], 'ownership handed over without other changes');
  const cleared = await registry.update(namespaces, undefined, 'ns', { ...moved.object, metadata: { ...moved.object.metadata, managedFields: [{}] } });
  t.notOk(cleared.object.metadata.managedFields);
  const kept = await registry.update(namespaces, undefined, 'ns', { ...cleared.object, metadata: { ...cleared.object.metadata, labels: { a: '2' } } });
  t.same(names(kept.object), ['tsk/Update'], 'in-process writes without a manager are "tsk"');
});

t.test('"kubectl" takes over what client-side apply last applied without a conflict', async (t) => {
  const { registry, namespaces, apply, deployments } = setup(t);
  await registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
  const csa = manifest(2);
  csa.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(manifest(2)) };
  await registry.create(deployments, 'ns', csa, { fieldManager: 'kubectl-client-side-apply' });
  const e = await apply(manifest(4), { fieldManager: 'other' }).catch((x: unknown) => x) as ApiError;
  t.equal(e.code, 409, 'another manager conflicts');
  const ok = await apply(manifest(4), { fieldManager: 'kubectl' });
  t.equal(ok.object.spec.replicas, 4);
  t.notOk(owns(ok.object, 'kubectl-client-side-apply', ['f:spec', 'f:replicas']));
});

t.test('more than 10 Update managers: the oldest merge into "ancient-changes"', async (t) => {
  const { registry, namespaces, clock } = setup(t);
  let ns = await registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } }, { fieldManager: 'm0' });
  for (let i = 1; i <= 12; i++) {
    clock.advance(1000);
    ns = (await registry.update(namespaces, undefined, 'ns', { ...ns, metadata: { ...ns.metadata, labels: { ...ns.metadata.labels, [`l${i}`]: 'x' } } }, { fieldManager: `m${i}` })).object;
  }
  const ms = names(ns);
  t.equal(ms.filter((m) => m.endsWith('/Update')).length, 10);
  t.ok(ms.includes('ancient-changes/Update'));
  t.notOk(ms.includes('m1/Update'));
  t.ok(ms.includes('m12/Update'));
  t.ok(owns(ns, 'ancient-changes', ['f:metadata', 'f:labels', 'f:l1']));
});

t.test('apply conflicts follow the upstream list type: Job conditions atomic, Pod conditions keyed by type', async (t) => {
  const { registry, namespaces } = setup(t);
  await registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } }, { fieldManager: 'x' });
  const jobs = registry.catalog.lookup('batch', 'v1', 'jobs')!;
  const pods = registry.catalog.lookup('', 'v1', 'pods')!;
  const tpl = { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } };
  await registry.create(jobs, 'ns', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: tpl } }, { fieldManager: 'x' });
  await registry.create(pods, 'ns', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: tpl.spec }, { fieldManager: 'x' });
  const cond = (type: string) => ({ type, status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' });
  const applyStatus = (s: typeof jobs, kind: string, apiVersion: string, name: string, type: string, manager: string) =>
    patchObject(registry, s, 'ns', name, 'apply', { apiVersion, kind, metadata: { name }, status: { conditions: [cond(type)] } } as KubeObject,
      { fieldManager: manager }, 'status');

  await applyStatus(pods, 'Pod', 'v1', 'p', 'A', 'one');
  const both = await applyStatus(pods, 'Pod', 'v1', 'p', 'B', 'two');
  t.ok(owns(both.object, 'two', ['f:status', 'f:conditions', 'k:{"type":"B"}']), 'Pod conditions: each manager owns its item');
  t.same((both.object.status as { conditions: { type: string }[] }).conditions.map((c) => c.type).sort(), ['A', 'B']);

  await applyStatus(jobs, 'Job', 'batch/v1', 'j', 'A', 'one');
  const e = await applyStatus(jobs, 'Job', 'batch/v1', 'j', 'B', 'two').catch((x: unknown) => x) as ApiError;
  t.equal(e.code, 409, 'Job conditions are one atomic field');
  t.match(e.message, /\.status\.conditions$/);
});
