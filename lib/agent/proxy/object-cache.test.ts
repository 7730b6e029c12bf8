import t from 'tap';
import { FakeClient } from '../../client/fake.ts';
import { core } from '../../client/types.ts';
import { ObjectCache } from './object-cache.ts';

t.test('lists, follows the watch, stops on abort', async (t) => {
  const client = new FakeClient();
  client.seed(core('services'), { metadata: { name: 'a', namespace: 'x' } });
  const changes: string[] = [];
  const cache = new ObjectCache(client, core('services'), { onChange: (type, o) => changes.push(`${type} ${o?.metadata.name ?? ''}`) });
  const ac = new AbortController();
  const done = cache.run(ac.signal);
  await cache.synced;
  t.same(cache.list().map((o) => o.metadata.name), ['a']);
  await client.create(core('services'), { metadata: { name: 'b', namespace: 'x' } }, 'x');
  await client.delete(core('services'), 'a', 'x');
  for (let i = 0; i < 200 && changes.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  t.same(changes, ['SYNC ', 'ADDED b', 'DELETED a']);
  t.same(cache.list().map((o) => o.metadata.name), ['b']);
  t.equal(cache.get('x', 'b')?.metadata.name, 'b');
  ac.abort();
  await done;
});
