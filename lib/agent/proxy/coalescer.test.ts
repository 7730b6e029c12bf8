import t from 'tap';
import { FakeClock } from '../../clock.ts';
import { SyncCoalescer } from './coalescer.ts';

const tick = () => new Promise((r) => setImmediate(r));

t.test('many requests within the interval give one sync per interval', async (t) => {
  const clock = new FakeClock();
  let n = 0;
  const c = new SyncCoalescer({ clock, minIntervalMs: 1000, sync: async () => { n++; } });
  c.request();
  clock.advance(0);
  await tick();
  t.equal(n, 1, 'first request syncs at once');
  for (let i = 0; i < 50; i++) c.request();
  clock.advance(500);
  await tick();
  t.equal(n, 1, 'no second sync before the interval');
  clock.advance(500);
  await tick();
  t.equal(n, 2, 'one coalesced sync after the interval');
  await c.idle();
  clock.advance(5000);
  await tick();
  t.equal(n, 2, 'nothing pending, nothing runs');
});

t.test('a failing sync is retried after the interval', async (t) => {
  const clock = new FakeClock();
  let n = 0;
  const c = new SyncCoalescer({ clock, minIntervalMs: 1000, sync: async () => { if (++n === 1) throw new Error('boom'); } });
  c.request();
  clock.advance(0);
  await tick();
  clock.advance(1000);
  await tick();
  t.equal(n, 2);
  t.equal(c.syncs, 1);
});
