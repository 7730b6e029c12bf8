// Lease renewals are deferrable writes; every other Lease change is an ordinary one (memory store, real registry).
import t from 'tap';
import { coordination, core, type KubeObject } from '../../client/types.ts';
import { FakeClock } from '../../clock.ts';
import { LeaderElector } from '../../controller/leader-election.ts';
import { renewLease } from '../../agent/node/node.ts';
import { MemoryStore } from '../../store/memory.ts';
import type { WriteOptions } from '../../store/types.ts';
import { createRegistry } from '../registry/index.ts';
import { isRenewal } from './coordination.ts';

const leases = coordination('leases');

async function setup(t: { teardown(fn: () => unknown): void }) {
  const store = new MemoryStore();
  const updates: { key: string; deferred: boolean }[] = [];
  const update = store.update.bind(store);
  store.update = (key: string, value: Uint8Array, rev: number, opts?: WriteOptions) => {
    updates.push({ key, deferred: !!opts?.deferred });
    return update(key, value, rev, opts);
  };
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const { client } = createRegistry({ store, clock });
  t.teardown(() => store.close());
  for (const name of ['kube-node-lease', 'kube-system']) await client.create(core('namespaces'), { metadata: { name } });
  return { client, clock, updates };
}

t.test('isRenewal: only spec.renewTime (and the generation and resourceVersion that follow it) may change', async (t) => {
  const old: KubeObject = { metadata: { name: 'n', resourceVersion: '5', generation: 2 }, spec: { holderIdentity: 'n', leaseDurationSeconds: 40, renewTime: 'a' } };
  t.ok(isRenewal({ ...old, metadata: { ...old.metadata, resourceVersion: '6', generation: 3 }, spec: { ...old.spec, renewTime: 'b' } }, old));
  t.notOk(isRenewal({ ...old, spec: { ...old.spec, renewTime: 'b', holderIdentity: 'm' } }, old), 'a new holder');
  t.notOk(isRenewal({ ...old, spec: { ...old.spec, leaseDurationSeconds: 1 } }, old), 'a new duration');
  t.notOk(isRenewal({ ...old, metadata: { ...old.metadata, labels: { a: 'b' } } }, old), 'a label');
  const mf = (time: string, fields = 'f:spec') => [{ manager: 'kubelet', operation: 'Update', time, fieldsV1: { [fields]: {} } }];
  const tracked = { ...old, metadata: { ...old.metadata, managedFields: mf('t1') } };
  t.ok(isRenewal({ ...tracked, metadata: { ...tracked.metadata, managedFields: mf('t2') }, spec: { ...old.spec, renewTime: 'b' } }, tracked), 'the manager entry time follows the write');
  t.notOk(isRenewal({ ...tracked, metadata: { ...tracked.metadata, managedFields: mf('t2', 'f:other') } }, tracked), 'other managed fields');
});

t.test('the node heartbeat and leader-election renewals are deferred; acquire and release are not', async (t) => {
  const { client, clock, updates } = await setup(t);
  await renewLease(client, 'node1', undefined, clock.now());
  for (let i = 0; i < 3; i++) {
    clock.advance(10_000);
    await renewLease(client, 'node1', undefined, clock.now());
  }
  t.same(updates.map((u) => u.deferred), [true, true, true], 'node lease renewals');
  const lease = await client.get<KubeObject>(leases, 'node1', 'kube-node-lease');
  t.equal(lease.spec.renewTime, new Date(clock.now()).toISOString().replace('Z', '000Z'), 'readers see the newest renewTime');

  updates.length = 0;
  await renewLease(client, 'node1', undefined, clock.now(), 90);
  t.same(updates.map((u) => u.deferred), [false], 'a changed duration is an ordinary write');

  updates.length = 0;
  const elector = new LeaderElector({ client, identity: 'a', clock });
  t.ok(await elector.tryAcquireOrRenew(), 'acquired (created)');
  clock.advance(40_000);
  t.ok(await elector.tryAcquireOrRenew(), 'renewed');
  await elector.release();
  const other = new LeaderElector({ client, identity: 'b', clock });
  clock.advance(1_000);
  t.ok(await other.tryAcquireOrRenew(), 'b acquires the released lease');
  t.same(updates.map((u) => u.deferred), [true, false, false], 'renewal deferred; release and takeover ordinary');
});
