import t from 'tap';
import { MemoryStore } from './memory.ts';

const enc = (s: string) => new TextEncoder().encode(s);

t.test('memory store basics', async (t) => {
  const s = new MemoryStore();
  t.teardown(() => s.close());
  const a = await s.create('/a', enc('1'));
  t.equal(a.modRevision, 1);
  const b = await s.update('/a', enc('2'), 1);
  t.equal(b.version, 2);
  t.equal(b.createRevision, 1);
});
