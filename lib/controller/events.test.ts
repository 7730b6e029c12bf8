import t from 'tap';
import type { KubeObject } from '../client/types.ts';
import { FakeClient } from '../client/fake.ts';
import { FakeClock } from '../clock.ts';
import { ClientEventRecorder } from './events.ts';

const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` } });

t.test('repeats fold into a count; each object may write 25 events, then one per 5 minutes', async (t) => {
  const client = new FakeClient();
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const r = new ClientEventRecorder({ client, component: 'kubelet', host: 'n1', clock });
  const writes = () => client.actions.filter((a) => a.resource === 'events' && (a.verb === 'create' || a.verb === 'patch')).length;

  for (let i = 0; i < 3; i++) r.event(pod('a'), 'Warning', 'BackOff', 'same');
  await r.flush();
  t.equal(writes(), 1, 'repeats inside 10 minutes: one write');

  for (let i = 0; i < 40; i++) r.event(pod('a'), 'Warning', 'Unhealthy', `probe output ${i}`);
  await r.flush();
  t.equal(writes(), 23, 'the bucket (25) was spent: 3 for the repeats, 22 new events');
  r.event(pod('b'), 'Normal', 'Started', 'other object');
  await r.flush();
  t.equal(writes(), 24, 'another object has its own bucket');

  clock.advance(5 * 60_000);
  r.event(pod('a'), 'Warning', 'Unhealthy', 'after 5 minutes');
  r.event(pod('a'), 'Warning', 'Unhealthy', 'and one more');
  await r.flush();
  t.equal(writes(), 25, 'one token came back');
});
