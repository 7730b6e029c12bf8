import t from 'tap';
import { FakeClient } from './fake.ts';
import { core } from './types.ts';

t.test('fake client records actions and delivers watch events', async (t) => {
  const c = new FakeClient();
  const w = await c.watch(core('pods'), { namespace: 'default' });
  await c.create(core('pods'), { metadata: { name: 'a', namespace: 'default', labels: { app: 'x' } } });
  await c.patch(core('pods'), 'a', 'merge', { metadata: { labels: { app: 'y' } } }, { namespace: 'default' });
  const seen: string[] = [];
  for await (const e of w) {
    seen.push(e.type);
    if (seen.length === 2) break;
  }
  t.same(seen, ['ADDED', 'MODIFIED']);
  t.same(c.actions.map((a) => a.verb), ['create', 'patch']);
  t.equal((await c.list(core('pods'), { labelSelector: 'app=y' })).items.length, 1);
  t.equal((await c.list(core('pods'), { labelSelector: 'app!=y' })).items.length, 0);
});
