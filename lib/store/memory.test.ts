import t from 'tap';
import { MemoryStore } from './memory.ts';
import { storeConformance } from './conformance.ts';

t.test('memory store conformance', async (t) => {
  storeConformance(t, async ({ clock, watchBuffer }) => new MemoryStore({ clock, watchBuffer }));
});
