import t from 'tap';
import { core, discovery, type KubeObject } from '../client/types.ts';
import { FakeClock } from '../clock.ts';
import { Expectations } from '../controller/expectations.ts';
import { listerOf, readyCondition, seeded, verbs } from './controller-revision-fixtures.ts';
import { reconcileEndpoints } from './endpoints.ts';
import { reconcileEndpointSlices } from './endpointslice.ts';

const svc = (extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid', labels: { tier: 'front' } },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }, { name: 'metrics', port: 9100, targetPort: 9100 }], ...extra },
});
const pod = (name: string, ip: string, o: { ready?: boolean; node?: string; port?: number; deleting?: boolean; hostname?: string } = {}): KubeObject => ({
  metadata: { name, namespace: 'ns', uid: `u-${name}`, labels: { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
  spec: { nodeName: o.node ?? 'n1', hostname: o.hostname, subdomain: o.hostname ? 'web' : undefined, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: o.port ?? 8080 }] }] },
  status: { phase: 'Running', podIP: ip, conditions: o.ready === false ? [] : [readyCondition()] },
});

t.test('endpoints: ready/notReady addresses, named ports per pod, targetRef and nodeName', async (t) => {
  const pods = [pod('a', '10.0.0.2'), pod('b', '10.0.0.1', { ready: false }), pod('c', '10.0.0.3', { port: 8081 }), pod('gone', '10.0.0.9', { deleting: true }),
    { ...pod('noip', ''), status: { phase: 'Pending' } }];
  const { client, listers } = seeded([[core('services'), [svc()]], [core('pods'), pods], [core('endpoints'), []]]);
  const d = { client, services: listers[0]!, pods: listers[1]!, endpoints: listers[2]! };
  await reconcileEndpoints(d, 'ns/web');
  t.same(verbs(client), ['create endpoints web']);
  const ep = client.objects(core('endpoints'))[0]!;
  t.same(ep.metadata.labels, { tier: 'front' });
  t.equal(ep.subsets.length, 2, 'one subset per resolved port set');
  const s8080 = ep.subsets.find((s: any) => s.ports[0].port === 8080);
  t.same(s8080.addresses.map((a: any) => a.ip), ['10.0.0.2']);
  t.same(s8080.notReadyAddresses.map((a: any) => a.ip), ['10.0.0.1']);
  t.same(s8080.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }]);
  t.same(s8080.addresses[0], { ip: '10.0.0.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'u-a' } });
  // unchanged → no write
  d.endpoints = listerOf(client.objects(core('endpoints')));
  client.actions.length = 0;
  await reconcileEndpoints(d, 'ns/web');
  t.same(client.actions, []);
  // service removed → endpoints removed
  d.services = listerOf([]);
  await reconcileEndpoints(d, 'ns/web');
  t.same(verbs(client), ['delete endpoints web']);
});

t.test('endpoints: publishNotReadyAddresses and headless hostnames', async (t) => {
  const { client, listers } = seeded([[core('services'), [svc({ clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ port: 80 }] })]], [core('pods'), [pod('a', '10.0.0.1', { ready: false, hostname: 'a' })]], [core('endpoints'), []]]);
  await reconcileEndpoints({ client, services: listers[0]!, pods: listers[1]!, endpoints: listers[2]! }, 'ns/web');
  const ep = client.objects(core('endpoints'))[0]!;
  t.same(ep.subsets[0].addresses.map((a: any) => [a.ip, a.hostname]), [['10.0.0.1', 'a']]);
  t.equal(ep.metadata.labels?.['service.kubernetes.io/headless'], '');
});

t.test('endpointslices: owned slice with conditions, reused in place, no idle writes', async (t) => {
  const pods = [pod('a', '10.0.0.2'), pod('b', '10.0.0.1', { ready: false }), pod('t', '10.0.0.5', { deleting: true })];
  const { client, listers } = seeded([[core('services'), [svc({ ports: [{ name: 'http', port: 80, targetPort: 8080 }] })]], [core('pods'), pods], [discovery('endpointslices'), []]]);
  const d = { client, services: listers[0]!, pods: listers[1]!, slices: listers[2]!, expectations: new Expectations(new FakeClock()) };
  await reconcileEndpointSlices(d, 'ns/web');
  t.same(verbs(client), ['create endpointslices web-*']);
  const s = client.objects(discovery('endpointslices'))[0]!;
  t.equal(s.addressType, 'IPv4');
  t.same(s.metadata.labels, { tier: 'front', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
  t.match(s.metadata.ownerReferences, [{ kind: 'Service', uid: 'svc-uid', controller: true }]);
  t.same(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  t.same(s.endpoints.map((e: any) => [e.addresses[0], e.conditions]), [
    ['10.0.0.1', { ready: false, serving: false, terminating: false }],
    ['10.0.0.2', { ready: true, serving: true, terminating: false }],
    ['10.0.0.5', { ready: false, serving: true, terminating: true }],
  ]);
  client.actions.length = 0;
  await reconcileEndpointSlices(d, 'ns/web');
  t.same(client.actions, [], 'waits for the informer to see the created slice');
  d.slices = listerOf(client.objects(discovery('endpointslices')));
  d.expectations.creationObserved('ns/web');
  await reconcileEndpointSlices(d, 'ns/web');
  t.same(client.actions, [], 'no write when equal');
  d.pods = listerOf([pod('a', '10.0.0.2')]);
  await reconcileEndpointSlices(d, 'ns/web');
  t.same(verbs(client), [`update endpointslices ${s.metadata.name}`], 'updated in place');
});

t.test('mirroring: Endpoints of a selector-less service become slices; skip-mirror and selector services are not mirrored', async (t) => {
  const { reconcileMirroring } = await import('./endpointslice-mirroring.ts');
  const ext = { metadata: { name: 'db', namespace: 'ns', uid: 'svc-db' }, spec: { ports: [{ port: 5432 }] } };
  const ep = { metadata: { name: 'db', namespace: 'ns', uid: 'ep-db', labels: { team: 'x' } }, subsets: [{ addresses: [{ ip: '192.0.2.10' }], notReadyAddresses: [{ ip: '192.0.2.11' }], ports: [{ name: 'pg', port: 5432 }] }] };
  const skipped = { metadata: { name: 'kubernetes', namespace: 'ns', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets: [{ addresses: [{ ip: '192.0.2.1' }] }] };
  const { client, listers } = seeded([[core('services'), [ext, { metadata: { name: 'kubernetes', namespace: 'ns' }, spec: {} }]], [core('endpoints'), [ep, skipped]], [discovery('endpointslices'), []]]);
  const d = { client, services: listers[0]!, endpoints: listers[1]!, slices: listers[2]!, expectations: new Expectations(new FakeClock()) };
  await reconcileMirroring(d, 'ns/db');
  await reconcileMirroring(d, 'ns/kubernetes');
  t.same(verbs(client), ['create endpointslices db-*']);
  const s = client.objects(discovery('endpointslices'))[0]!;
  t.same(s.metadata.labels, { team: 'x', 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' });
  t.match(s.metadata.ownerReferences, [{ kind: 'Endpoints', uid: 'ep-db' }]);
  t.same(s.ports, [{ name: 'pg', port: 5432, protocol: 'TCP' }]);
  t.same(s.endpoints.map((e: any) => [e.addresses[0], e.conditions.ready]), [['192.0.2.10', true], ['192.0.2.11', false]]);
  d.slices = listerOf(client.objects(discovery('endpointslices')));
  d.expectations.creationObserved('ns/db');
  client.actions.length = 0;
  await reconcileMirroring(d, 'ns/db');
  t.same(client.actions, [], 'no write when equal');
  d.endpoints = listerOf([]);
  await reconcileMirroring(d, 'ns/db');
  t.same(verbs(client), [`delete endpointslices ${s.metadata.name}`], 'removed with the Endpoints');
});
