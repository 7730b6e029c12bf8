import t from 'tap';
import { FakeClient } from '../client/fake.ts';
import { coordination, core } from '../client/types.ts';
import { startControllers } from './manager.ts';

t.test('leads, starts controllers on synced informers, stops and releases', async (t) => {
  const client = new FakeClient();
  client.seed(core('nodes'), { metadata: { name: 'n' } });
  const ac = new AbortController();
  const runs: string[] = [];
  const m = startControllers({
    client, signal: ac.signal, leaderElection: { identity: 'me' },
    controllers: {
      probe: (ctx) => {
        const nodes = ctx.factory.informer(core('nodes'));
        return { run: async (signal) => { runs.push(`run ${nodes.lister.list().length}`); await new Promise((r) => signal.addEventListener('abort', r)); runs.push('stopped'); } };
      },
      off: () => { throw new Error('disabled controllers are not initialised'); },
    },
    disabled: ['off'],
  });
  await m.ready;
  for (let i = 0; i < 100 && !runs.length; i++) await new Promise((r) => setImmediate(r));
  t.same(runs, ['run 1']);
  t.ok(m.isLeader);
  await m.stop();
  t.same(runs, ['run 1', 'stopped']);
  const lease = await client.get(coordination('leases'), 'tsk-controllers', 'kube-system');
  t.notOk(lease.spec.holderIdentity);
});
