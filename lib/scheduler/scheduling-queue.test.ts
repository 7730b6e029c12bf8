import t from 'tap';
import { FakeClock } from '../clock.ts';
import { SchedulingQueue } from './scheduling-queue.ts';

t.test('higher priority first, then first in first out; dirty/processing as the work queue', async (t) => {
  const prio: Record<string, number> = { a: 0, b: 10, c: 0, d: 10, e: -5, f: 2000000000 };
  const q = new SchedulingQueue({ clock: new FakeClock(), priority: (k) => prio[k] ?? 0 });
  for (const k of ['a', 'b', 'c', 'd', 'e', 'f', 'a']) q.add(k);
  t.equal(q.length, 6, 'a key waiting twice is queued once');
  const order: string[] = [];
  while (q.length) { const k = (await q.get())!; order.push(k); q.done(k); }
  t.same(order, ['f', 'b', 'd', 'a', 'c', 'e']);
  q.add('a');
  const k = await q.get();
  q.add('a');
  t.equal(q.length, 0, 'a key being processed is not handed out again');
  q.done(k!);
  t.equal(q.length, 1, 'requeued after done');
  q.shutDown();
});

t.test('delayed adds run on the clock; an earlier one wins', async (t) => {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock, priority: () => 0 });
  q.addAfter('x', 5000);
  q.addAfter('x', 1000);
  clock.advance(999);
  t.equal(q.length, 0);
  clock.advance(1);
  t.equal(q.length, 1);
  q.shutDown();
  t.equal(await q.get(), 'x', 'queued keys still drain after shutdown');
  t.equal(await q.get(), undefined);
});
