import t from 'tap';
import { defaultStartSlots, StartGate } from './start-gate.ts';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
};
const tick = () => new Promise((r) => setImmediate(r));

t.test('at most limit run at once; container starts go before sandboxes', async (t) => {
  const gate = new StartGate(2);
  const order: string[] = [];
  const d = new Map<string, ReturnType<typeof deferred>>();
  const start = (kind: 'sandbox' | 'container', name: string) => {
    d.set(name, deferred());
    return gate.run(kind, async () => { order.push(name); await d.get(name)!.promise; return name; });
  };
  const runs = [start('sandbox', 's1'), start('sandbox', 's2'), start('sandbox', 's3'), start('sandbox', 's4')];
  await tick();
  t.same(order, ['s1', 's2']);
  t.same(gate.stats(), { active: 2, waiting: 2 });
  const c1 = start('container', 'c1');
  d.get('s1')!.resolve();
  await tick();
  t.same(order, ['s1', 's2', 'c1'], 'the container start jumps the sandbox queue');
  d.get('s2')!.reject(new Error('boom'));
  await t.rejects(runs[1]!, /boom/);
  await tick();
  t.same(order, ['s1', 's2', 'c1', 's3'], 'a failed start frees its slot');
  for (const k of ['c1', 's3']) d.get(k)!.resolve();
  await tick();
  d.get('s4')!.resolve();
  t.same(await Promise.all([runs[0], runs[2], runs[3], c1]), ['s1', 's3', 's4', 'c1']);
  t.same(gate.stats(), { active: 0, waiting: 0 });
});

t.test('no bound with limit 0', async (t) => {
  const gate = new StartGate(0);
  let running = 0;
  let peak = 0;
  const d = deferred();
  const runs = Array.from({ length: 20 }, () => gate.run('sandbox', async () => { running++; peak = Math.max(peak, running); await d.promise; running--; }));
  await tick();
  d.resolve();
  await Promise.all(runs);
  t.equal(peak, 20);
  t.equal(defaultStartSlots(1), 3);
  t.equal(defaultStartSlots(4), 12);
});
