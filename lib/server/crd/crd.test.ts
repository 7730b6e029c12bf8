import t from 'tap';
import type { KubeObject, ResourceRef } from '../../client/types.ts';
import { FakeClock } from '../../clock.ts';
import { MemoryStore } from '../../store/memory.ts';
import { createRegistry } from '../registry/index.ts';
import { CRD_REF, CrdController } from './controller.ts';
import { evalJsonPath, parseJsonPath } from './jsonpath.ts';
import { applyDefaults, prune, validateSchema } from './schema.ts';
import { widgetCrdObject } from './testdata.ts';

const widgetCrd = widgetCrdObject;

/** A registry on a memory store with a CRD controller, started by run() when the test wants it; stopped on teardown. */
function crdRegistry(t: { teardown(fn: () => unknown): void }) {
  const store = new MemoryStore();
  const { registry, client } = createRegistry({ store, clock: new FakeClock(Date.parse('2026-01-01T00:00:00Z')), bookmarkIntervalMs: 50 });
  const ac = new AbortController();
  t.teardown(() => { ac.abort(); return store.close(); });
  const ctl = new CrdController({ client, catalog: registry.catalog });
  let running: Promise<void> | undefined;
  return {
    store, registry, client, ctl, signal: ac.signal,
    run: () => { running = ctl.run(ac.signal); },
    /** Stops the controller and waits for it. */
    stop: async () => { ac.abort(); await running; },
  };
}

t.test('schema operations and jsonpath', async (t) => {
  const schema: any = widgetCrd().spec.versions[0].schema.openAPIV3Schema;
  const o: any = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'a' }, spec: { size: 2, junk: 1, labels: { a: 'b' }, free: { x: { y: 1 } } }, extra: true };
  prune(o, schema, true);
  t.same(o, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'a' }, spec: { size: 2, labels: { a: 'b' }, free: { x: { y: 1 } } } });
  applyDefaults(o, schema);
  t.equal(o.spec.color, 'red');
  t.same(validateSchema(o, schema, '', true), []);
  const bad = validateSchema({ spec: { size: 'big', color: 'green' } }, schema, '', true);
  t.match(bad, [{ field: 'spec.size', message: /must be of type integer/ }, { field: 'spec.color', reason: 'FieldValueNotSupported' }]);
  t.match(validateSchema({ spec: {} }, schema, '', true), [{ field: 'spec.size', reason: 'FieldValueRequired' }]);
  t.match(validateSchema({ spec: { size: 0 } }, schema, '', true), [{ field: 'spec.size', message: /greater than or equal to 1/ }]);
  const cond = { status: { conditions: [{ type: 'A', status: 'x' }, { type: 'Ready', status: 'True' }] } };
  t.same(evalJsonPath(cond, parseJsonPath('.status.conditions[?(@.type=="Ready")].status')), ['True']);
  t.same(evalJsonPath(cond, parseJsonPath('{.status.conditions[*].type}')), ['A', 'Ready']);
  t.same(evalJsonPath({ metadata: { labels: { 'a.b/c': 'v' } } }, parseJsonPath(".metadata.labels['a.b/c']")), ['v']);
});

t.test('CRD lifecycle through the registry', async (t) => {
  const { store, registry, client, run, stop } = crdRegistry(t);
  await client.create({ group: '', version: 'v1', resource: 'namespaces' }, { metadata: { name: 'default' } });
  await t.rejects(client.create(CRD_REF, { ...widgetCrd(), metadata: { name: 'wrong.example.com' } }), { code: 422, message: /spec.names.plural/ });
  run();
  await client.create(CRD_REF, widgetCrd());
  const ref: ResourceRef = { group: 'example.com', version: 'v1', resource: 'widgets' };
  let crd: KubeObject | undefined;
  for (let i = 0; i < 400; i++) {
    crd = await client.get<KubeObject>(CRD_REF, 'widgets.example.com');
    if (crd.status?.conditions?.some((c: any) => c.type === 'Established' && c.status === 'True')) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  t.match(crd!.status, { acceptedNames: { kind: 'Widget' }, storedVersions: ['v1'] });
  t.ok(registry.catalog.lookup('example.com', 'v1', 'widgets'));

  const w = await client.create<KubeObject>(ref, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3, junk: true, replicas: 1 }, status: { phase: 'ignored' } }, 'default');
  t.same(w.spec, { size: 3, replicas: 1, color: 'red' }, 'pruned and defaulted');
  await t.rejects(client.create(ref, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w2' }, spec: { size: 'x' } }, 'default'), { code: 422, message: /spec.size/ });
  await t.rejects(client.patch(ref, 'w1', 'strategic', { spec: { size: 4 } }, { namespace: 'default' }), { code: 415 });
  const m = await client.patch<KubeObject>(ref, 'w1', 'merge', { spec: { size: 4 } }, { namespace: 'default' });
  t.equal(m.spec.size, 4);
  const st = await client.patch<KubeObject>(ref, 'w1', 'merge', { status: { phase: 'Ready', replicas: 1, conditions: [{ type: 'Ready', status: 'True' }] } }, { namespace: 'default', subresource: 'status' });
  t.equal(st.status.phase, 'Ready');
  const strategy = registry.catalog.lookup('example.com', 'v1', 'widgets')!;
  t.same(strategy.columns!.map((c) => c.name), ['Name', 'Size', 'Color', 'Ready', 'Age']);
  t.same(strategy.cells!(st, Date.parse('2026-01-01T00:01:00Z')), ['w1', 4, 'red', 'True', '60s']);
  const scaled = await client.patch<KubeObject>(ref, 'w1', 'merge', { spec: { replicas: 3 } }, { namespace: 'default', subresource: 'scale' });
  t.equal(scaled.spec.replicas, 3);
  t.equal((await client.get<KubeObject>(ref, 'w1', 'default')).spec.replicas, 3);

  await client.delete(CRD_REF, 'widgets.example.com');
  for (let i = 0; i < 400; i++) {
    try { await client.get(CRD_REF, 'widgets.example.com'); } catch { break; }
    await new Promise((r) => setTimeout(r, 25));
  }
  await t.rejects(client.get(CRD_REF, 'widgets.example.com'), { code: 404 });
  t.notOk(registry.catalog.lookup('example.com', 'v1', 'widgets'));
  t.equal((await store.list('/registry/example.com/')).items.length, 0, 'custom resources removed');
  await stop();
});

t.test('cluster-scoped, multi-version CRD', async (t) => {
  const { registry, client, run, stop } = crdRegistry(t);
  run();
  const crd = widgetCrdObject('Cluster');
  const v1 = crd.spec.versions[0];
  crd.spec.versions = [{ ...v1, name: 'v1beta1', storage: false, additionalPrinterColumns: undefined }, v1];
  await client.create(CRD_REF, crd);
  for (let i = 0; i < 400 && !registry.catalog.lookup('example.com', 'v1beta1', 'widgets'); i++) await new Promise((r) => setTimeout(r, 25));
  const s = registry.catalog.lookup('example.com', 'v1beta1', 'widgets')!;
  t.same(s.versions, ['v1', 'v1beta1'], 'storage version first');
  t.equal(s.namespaced, false);
  const beta: ResourceRef = { group: 'example.com', version: 'v1beta1', resource: 'widgets' };
  const created = await client.create<KubeObject>(beta, { apiVersion: 'example.com/v1beta1', kind: 'Widget', metadata: { name: 'global' }, spec: { size: 1 } });
  t.equal(created.metadata.namespace, undefined);
  const asV1 = await client.get<KubeObject>({ ...beta, version: 'v1' }, 'global');
  t.equal(asV1.apiVersion, 'example.com/v1');
  t.equal((await client.get<KubeObject>(beta, 'global')).apiVersion, 'example.com/v1beta1');
  await stop();
});

t.test('a CRD colliding with a built-in resource is refused, not served', async (t) => {
  const { registry, client, ctl, signal, run, stop } = crdRegistry(t);
  const crd = widgetCrdObject();
  crd.metadata.name = 'ingresses.networking.k8s.io';
  crd.spec.group = 'networking.k8s.io';
  crd.spec.names = { plural: 'ingresses', singular: 'ingress', kind: 'Ingress' };
  await client.create(CRD_REF, crd);
  run();
  await ctl.waitForSync(signal);
  let got: KubeObject | undefined;
  for (let i = 0; i < 400; i++) {
    got = await client.get<KubeObject>(CRD_REF, 'ingresses.networking.k8s.io');
    if (got.status?.conditions?.length) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  t.match(got!.status.conditions, [{ type: 'NamesAccepted', status: 'False', reason: 'NameConflict' }, { type: 'Established', status: 'False' }]);
  t.notOk((registry.catalog.lookup('networking.k8s.io', 'v1', 'ingresses') as { custom?: boolean }).custom, 'the built-in strategy still serves');
  await stop();
});
