import t from 'tap';
import { FakeClock } from '../clock.ts';
import { ExponentialBackoff, TokenBucket } from './rate-limiter.ts';
import { WorkQueue } from './work-queue.ts';
import { Controller } from './controller.ts';

t.test('dirty set dedups; processing key is not handed out twice', async (t) => {
  const q = new WorkQueue<string>({ clock: new FakeClock() });
  q.add('a'); q.add('a'); q.add('b');
  t.equal(q.length, 2);
  const k = await q.get();
  t.equal(k, 'a');
  q.add('a'); // while processing: re-queued only after done
  t.equal(await q.get(), 'b');
  t.equal(q.length, 0);
  let got: string | undefined;
  const p = q.get().then((x) => (got = x));
  await new Promise((r) => setImmediate(r));
  t.equal(got, undefined);
  q.done('a');
  await p;
  t.equal(got, 'a');
  q.done('b');
  q.done('a');
  q.shutDown();
  t.equal(await q.get(), undefined);
});

t.test('delayed adds run on the clock; earlier wins', async (t) => {
  const clock = new FakeClock();
  const q = new WorkQueue<string>({ clock });
  q.addAfter('x', 1000);
  q.addAfter('x', 100);
  clock.advance(99);
  t.equal(q.length, 0);
  clock.advance(1);
  t.equal(q.length, 1);
  clock.advance(2000);
  t.equal(q.length, 1);
});

t.test('exponential backoff 5ms doubling capped at 1000s; forget resets', async (t) => {
  const b = new ExponentialBackoff<string>();
  t.same([b.when('k'), b.when('k'), b.when('k'), b.when('k')], [5, 10, 20, 40]);
  for (let i = 0; i < 40; i++) b.when('k');
  t.equal(b.when('k'), 1_000_000);
  t.equal(b.when('other'), 5);
  b.forget('k');
  t.equal(b.when('k'), 5);
});

t.test('token bucket limits overall rate', async (t) => {
  const clock = new FakeClock();
  const tb = new TokenBucket<string>(10, 2, clock);
  t.equal(tb.when('a'), 0);
  t.equal(tb.when('b'), 0);
  t.equal(tb.when('c'), 100);
  clock.advance(1000);
  t.equal(tb.when('d'), 0);
});

t.test('controller requeues a failing key with backoff and never runs one key concurrently', async (t) => {
  const clock = new FakeClock();
  let running = 0;
  let maxRunning = 0;
  let calls = 0;
  const c = new Controller({
    name: 'test', clock, workers: 3,
    reconcile: async () => {
      running++; maxRunning = Math.max(maxRunning, running); calls++;
      await new Promise((r) => setImmediate(r));
      running--;
      if (calls < 3) throw new Error('boom');
    },
  });
  const ac = new AbortController();
  const done = c.run(ac.signal);
  c.enqueue('ns/a'); c.enqueue('ns/a');
  for (let i = 0; i < 50 && calls < 1; i++) await new Promise((r) => setImmediate(r));
  c.enqueue('ns/a');
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  t.equal(maxRunning, 1);
  t.ok(calls >= 1);
  // failures were requeued with backoff: advancing the clock brings them back
  for (let i = 0; i < 10 && calls < 3; i++) {
    clock.advance(1000);
    for (let j = 0; j < 20; j++) await new Promise((r) => setImmediate(r));
  }
  t.equal(calls, 3);
  t.equal(c.queue.numRequeues('ns/a'), 0, 'success forgets failures');
  ac.abort();
  await done;
});
