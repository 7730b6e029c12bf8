import t from 'tap';
import { FakeClient } from '../client/fake.ts';
import { coordination } from '../client/types.ts';
import { FakeClock } from '../clock.ts';
import { LeaderElector } from './leader-election.ts';

const leases = coordination('leases');

t.test('acquire, renew sparingly, block a second candidate, take over after expiry, release on stop', async (t) => {
  const client = new FakeClient();
  const clock = new FakeClock();
  const a = new LeaderElector({ client, clock, identity: 'a' });
  const b = new LeaderElector({ client, clock, identity: 'b' });
  t.equal(await a.tryAcquireOrRenew(), true);
  t.equal(await b.tryAcquireOrRenew(), false, 'held by a');
  clock.advance(59_000);
  t.equal(await b.tryAcquireOrRenew(), false, 'not yet expired on b\'s clock');
  t.equal(await a.tryAcquireOrRenew(), true, 'renew');
  clock.advance(61_000);
  t.equal(await b.tryAcquireOrRenew(), false, 'a renewed; b saw a new renewTime only now');
  clock.advance(61_000);
  t.equal(await b.tryAcquireOrRenew(), true, 'expired → b takes over');
  const lease = (await client.get(leases, 'tsk-controllers', 'kube-system')).spec;
  t.equal(lease.holderIdentity, 'b');
  t.equal(lease.leaseTransitions, 1);
  t.equal(await a.tryAcquireOrRenew(), false);
});

t.test('run: leads, renews every 40 s (one write each), releases on stop', async (t) => {
  const client = new FakeClient();
  const clock = new FakeClock();
  const a = new LeaderElector({ client, clock, identity: 'a' });
  const ac = new AbortController();
  let leading: AbortSignal | undefined;
  const run = a.run(ac.signal, (s) => { leading = s; });
  for (let i = 0; i < 100 && !leading; i++) await new Promise((r) => setImmediate(r));
  t.ok(leading && !leading.aborted);
  const writes0 = client.actions.length;
  for (let i = 0; i < 3; i++) {
    clock.advance(40_000);
    for (let j = 0; j < 20; j++) await new Promise((r) => setImmediate(r));
  }
  t.equal(client.actions.length - writes0, 3, 'three renewals in 120 s');
  ac.abort();
  await run;
  t.ok(leading!.aborted);
  const lease = (await client.get(leases, 'tsk-controllers', 'kube-system')).spec;
  t.notOk(lease.holderIdentity, 'released');
  const b = new LeaderElector({ client, clock, identity: 'b' });
  t.equal(await b.tryAcquireOrRenew(), true, 'handover is immediate');
});
