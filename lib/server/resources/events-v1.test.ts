import t from 'tap';
import { core, type KubeObject, type ResourceRef } from '../../client/types.ts';
import { FakeClock } from '../../clock.ts';
import { MemoryStore } from '../../store/memory.ts';
import { createRegistry } from '../registry/index.ts';
import { eventToCore, eventToV1 } from './events-v1.ts';

const v1: ResourceRef = { group: 'events.k8s.io', version: 'v1', resource: 'events' };

const coreEvent = (name: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'p', namespace: 'default', uid: 'u1' },
  reason: 'Started', message: 'Started container', source: { component: 'kubelet', host: 'n1' },
  firstTimestamp: '2026-01-01T00:00:00Z', lastTimestamp: '2026-01-01T00:00:05Z', count: 2, type: 'Normal',
  reportingComponent: 'kubelet', reportingInstance: 'n1',
});

t.test('conversion both ways', async (t) => {
  const v = eventToV1(coreEvent('a'));
  t.same(v, {
    apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'a', namespace: 'default' },
    regarding: { kind: 'Pod', name: 'p', namespace: 'default', uid: 'u1' }, reason: 'Started', note: 'Started container',
    deprecatedSource: { component: 'kubelet', host: 'n1' }, deprecatedFirstTimestamp: '2026-01-01T00:00:00Z',
    deprecatedLastTimestamp: '2026-01-01T00:00:05Z', deprecatedCount: 2, type: 'Normal', reportingController: 'kubelet', reportingInstance: 'n1',
  });
  t.same(eventToCore(v), coreEvent('a'), 'round trip');
});

t.test('one storage, two APIs: get, list with field selectors, create, patch, watch', async (t) => {
  const store = new MemoryStore();
  t.teardown(() => store.close());
  const { client } = createRegistry({ store, clock: new FakeClock(Date.parse('2026-01-01T00:00:10Z')) });
  await client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const w = await client.watch(v1, { namespace: 'default' });
  await client.create(core('events'), coreEvent('a'));
  const got = await client.get(v1, 'a', 'default');
  t.equal(got.apiVersion, 'events.k8s.io/v1');
  t.equal(got.note, 'Started container');
  t.notOk(got.message);
  const l = await client.list(v1, { namespace: 'default', fieldSelector: 'regarding.name=p,involvedObject.uid=u1' });
  t.equal(l.apiVersion, 'events.k8s.io/v1');
  t.same(l.items.map((e) => e.metadata.name), ['a']);
  t.equal((await client.list(v1, { namespace: 'default', fieldSelector: 'regarding.name=q' })).items.length, 0);

  await client.create(v1, { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'b', namespace: 'default' },
    regarding: { kind: 'Pod', name: 'q', namespace: 'default' }, note: 'hi', reason: 'R', type: 'Warning',
    eventTime: '2026-01-01T00:00:09.000000Z', reportingController: 'ctl', reportingInstance: 'i', action: 'Do' });
  const b = await client.get(core('events'), 'b', 'default');
  t.equal(b.message, 'hi');
  t.equal(b.involvedObject.name, 'q');
  t.equal(b.reportingComponent, 'ctl');

  const patched = await client.patch(v1, 'b', 'merge', { note: 'changed' }, { namespace: 'default' });
  t.equal(patched.note, 'changed');
  t.equal((await client.get(core('events'), 'b', 'default')).message, 'changed', 'patched in the v1 form');

  const seen: KubeObject[] = [];
  for await (const e of w) {
    seen.push(e.object);
    if (seen.length === 3) break;
  }
  w.close();
  t.same(seen.map((o) => [o.apiVersion, o.metadata.name, o.note]), [
    ['events.k8s.io/v1', 'a', 'Started container'], ['events.k8s.io/v1', 'b', 'hi'], ['events.k8s.io/v1', 'b', 'changed'],
  ]);
});
