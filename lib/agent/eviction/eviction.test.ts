import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../../clock.ts';
import type { Pod } from '../kubelet/pod-types.ts';
import { evictionConfig, parseDuration, type Threshold } from './config.ts';
import { EvictionManager } from './manager.ts';
import { admitUnderPressure, evictionMessage, formatQuantity, isCriticalPod, rankPods, type UsageByPod } from './rank.ts';
import { memoryObservation, observeSignals, pidObservation } from './signals.ts';
import { initialState, step, thresholdsMet, type Observations } from './thresholds.ts';
import { tempDir } from '../../test-fixture.ts';

const Mi = 1024 ** 2;
const Gi = 1024 ** 3;

t.test('kubelet args: defaults, eviction-hard replaces them, soft needs grace, errors name the argument', async (t) => {
  const d = evictionConfig([]);
  t.same(d.thresholds.map((x) => [x.signal, x.value]), [
    ['memory.available', { quantity: 100 * Mi }], ['nodefs.available', { percentage: 0.1 }],
    ['nodefs.inodesFree', { percentage: 0.05 }], ['imagefs.available', { percentage: 0.15 }],
  ]);
  t.equal(d.pressureTransitionPeriodMs, 300_000);

  const c = evictionConfig([
    'eviction-hard=memory.available<5%,nodefs.available<0%', '--eviction-minimum-reclaim=memory.available=50Mi',
    'eviction-soft=memory.available<1Gi', 'eviction-soft-grace-period=memory.available=1m30s', 'eviction-pressure-transition-period=30s',
    'eviction-max-pod-grace-period=10',
  ]);
  t.same(c.thresholds, [
    { signal: 'memory.available', value: { percentage: 0.05 }, gracePeriodMs: 0, minReclaim: { quantity: 50 * Mi } },
    { signal: 'memory.available', value: { quantity: Gi }, gracePeriodMs: 90_000, minReclaim: { quantity: 50 * Mi } },
  ], 'nodefs.available<0% disables it; the others are not defaulted');
  t.equal(c.pressureTransitionPeriodMs, 30_000);
  t.equal(c.maxPodGracePeriodSeconds, 10);
  t.equal(evictionConfig(['eviction-hard=pid.available<1000']).thresholds[0]!.value.quantity, 1000);

  const bad: [string[], RegExp][] = [
    [['max-pods=10'], /kubelet flag "max-pods" is not supported/],
    [['eviction-hard=memory.free<1Gi'], /unknown eviction signal "memory.free"/],
    [['eviction-hard=memory.available>1Gi'], /only the < operator/],
    [['eviction-hard=memory.available<120%'], /invalid percentage/],
    [['eviction-hard=memory.available<lots'], /invalid quantity/],
    [['eviction-hard=memory.available<1Gi,memory.available<2Gi'], /given twice/],
    [['eviction-soft=memory.available<1Gi'], /needs a grace period/],
    [['eviction-pressure-transition-period=5 minutes'], /invalid duration/],
    [['eviction-hard'], /want eviction-hard=VALUE/],
  ];
  for (const [args, re] of bad) t.throws(() => evictionConfig(args), re, args.join(' '));
  t.equal(parseDuration('1h2m3.5s'), 3_723_500);
  t.equal(parseDuration('250ms'), 250);
});

const mem = (available: number, capacity = 8 * Gi): Observations => ({ 'memory.available': { available, capacity } });

t.test('thresholds met, minimum reclaim, soft grace period and pressure transition period', async (t) => {
  const hard: Threshold = { signal: 'memory.available', value: { quantity: 100 * Mi }, gracePeriodMs: 0, minReclaim: { quantity: 400 * Mi } };
  const pct: Threshold = { signal: 'nodefs.available', value: { percentage: 0.1 }, gracePeriodMs: 0 };
  const cases: [string, Threshold[], Observations, boolean, string[]][] = [
    ['above the threshold', [hard], mem(200 * Mi), false, []],
    ['below the threshold', [hard], mem(90 * Mi), false, ['memory.available']],
    ['above threshold, inside min reclaim', [hard], mem(300 * Mi), true, ['memory.available']],
    ['above threshold + min reclaim', [hard], mem(600 * Mi), true, []],
    ['percentage of capacity', [pct], { 'nodefs.available': { available: 9, capacity: 100 } }, false, ['nodefs.available']],
    ['percentage not crossed', [pct], { 'nodefs.available': { available: 10, capacity: 100 } }, false, []],
    ['no observation', [pct], mem(1), false, []],
  ];
  for (const [name, ts, obs, enforce, want] of cases) t.same(thresholdsMet(ts, obs, enforce).map((x) => x.signal), want, name);

  // A hard threshold with minimum reclaim and a 60 s transition period, on an injected clock.
  let s = initialState();
  let now = 0;
  const run = (obs: Observations) => { const r = step(s, [hard], obs, now, 60_000); s = r.state; return r; };
  let r = run(mem(90 * Mi));
  t.same([...r.conditions], ['MemoryPressure']);
  t.equal(r.thresholds.length, 1, 'acts at once');
  now += 10_000;
  r = run(mem(300 * Mi));
  t.equal(r.thresholds.length, 1, 'still acting until threshold + minimum reclaim is available');
  now += 10_000;
  r = run(mem(600 * Mi));
  t.equal(r.thresholds.length, 0, 'resolved');
  t.same([...r.conditions], ['MemoryPressure'], 'condition kept during the transition period');
  now += 45_000;
  r = run(mem(600 * Mi));
  t.same([...r.conditions], ['MemoryPressure'], '55 s after the last crossing');
  now += 10_000;
  r = run(mem(600 * Mi));
  t.same([...r.conditions], [], 'False after the transition period');

  // A soft threshold acts only after its grace period; the condition is True at once.
  const soft: Threshold = { signal: 'memory.available', value: { quantity: Gi }, gracePeriodMs: 30_000 };
  s = initialState();
  now = 0;
  r = step(s, [soft], mem(900 * Mi), now, 60_000); s = r.state;
  t.same([...r.conditions], ['MemoryPressure']);
  t.equal(r.thresholds.length, 0, 'grace period not over');
  now = 20_000;
  r = step(s, [soft], mem(900 * Mi), now, 60_000); s = r.state;
  t.equal(r.thresholds.length, 0);
  now = 30_000;
  r = step(s, [soft], mem(900 * Mi), now, 60_000); s = r.state;
  t.equal(r.thresholds.length, 1, 'grace period over');
  now = 40_000;
  r = step(s, [soft], mem(2 * Gi), now, 60_000); s = r.state;
  now = 50_000;
  r = step(s, [soft], mem(900 * Mi), now, 60_000);
  t.equal(r.thresholds.length, 0, 'crossed again: the grace period starts over');

  const disk: Threshold = { signal: 'imagefs.available', value: { quantity: 1 }, gracePeriodMs: 0 };
  r = step(initialState(), [disk, hard], { ...mem(1), 'imagefs.available': { available: 0, capacity: 10 } }, 0, 1);
  t.same(r.thresholds.map((x) => x.signal), ['memory.available', 'imagefs.available'], 'memory first');
  t.same([...r.conditions].sort(), ['DiskPressure', 'MemoryPressure']);
});

const pod = (name: string, o: { priority?: number; memReq?: string; diskReq?: string; annotations?: Record<string, string> } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: name, annotations: o.annotations },
  spec: {
    priority: o.priority,
    containers: [{ name: 'c', image: 'busybox', resources: { requests: { ...(o.memReq ? { memory: o.memReq } : {}), ...(o.diskReq ? { 'ephemeral-storage': o.diskReq } : {}) } } }],
  },
} as unknown as Pod);

t.test('ranking: over requests first, then priority, then usage above requests', async (t) => {
  const stats: UsageByPod = new Map([
    ['be-small', { containers: [{ name: 'c', memoryBytes: 10 * Mi }], memoryBytes: 10 * Mi, diskBytes: 5 * Mi }],
    ['be-big', { containers: [{ name: 'c', memoryBytes: 200 * Mi }], memoryBytes: 200 * Mi, diskBytes: 1 * Mi }],
    ['burst-under', { containers: [{ name: 'c', memoryBytes: 50 * Mi }], memoryBytes: 50 * Mi, diskBytes: 50 * Mi }],
    ['burst-over', { containers: [{ name: 'c', memoryBytes: 300 * Mi }], memoryBytes: 300 * Mi, diskBytes: 0 }],
    ['high-prio', { containers: [{ name: 'c', memoryBytes: 900 * Mi }], memoryBytes: 900 * Mi, diskBytes: 900 * Mi }],
  ]);
  const pods = [
    pod('burst-under', { memReq: '100Mi', diskReq: '100Mi' }), pod('high-prio', { priority: 1000 }), pod('be-small'),
    pod('burst-over', { memReq: '250Mi' }), pod('be-big'), pod('no-stats'),
  ];
  const names = (ps: Pod[]) => ps.map((p) => p.metadata.name);
  t.same(names(rankPods('memory', pods, stats)), ['no-stats', 'be-big', 'burst-over', 'be-small', 'high-prio', 'burst-under']);
  t.same(names(rankPods('ephemeral-storage', pods, stats)), ['no-stats', 'be-small', 'be-big', 'high-prio', 'burst-over', 'burst-under']);
  const pids: UsageByPod = new Map([['a', { containers: [], processes: 3 }], ['b', { containers: [], processes: 30 }], ['c', { containers: [], processes: 300 }]]);
  t.same(names(rankPods('pids', [pod('a'), pod('b'), pod('c', { priority: 5 })], pids)), ['b', 'a', 'c']);

  t.ok(isCriticalPod(pod('x', { priority: 2_000_000_000 })));
  t.ok(isCriticalPod(pod('x', { annotations: { 'kubernetes.io/config.mirror': 'abc' } })));
  t.notOk(isCriticalPod(pod('x', { priority: 1_999_999_999 })));

  t.same(['0', '1000', '1Ki', '1536', '100Mi', '90Mi', '3Gi', '1025Ki'], [0, 1000, 1024, 1536, 100 * Mi, 90 * Mi, 3 * Gi, 1025 * 1024].map(formatQuantity));
  const th: Threshold = { signal: 'memory.available', value: { quantity: 100 * Mi }, gracePeriodMs: 0 };
  t.equal(evictionMessage('memory', pod('x'), { containers: [{ name: 'c', memoryBytes: 120 * Mi }] }, th, mem(90 * Mi)),
    'The node was low on resource: memory. Threshold quantity: 100Mi, available: 90Mi. Container c was using 120Mi, request is 0, has larger consumption of memory. ');
  t.equal(evictionMessage('memory', pod('x', { memReq: '200Mi' }), { containers: [{ name: 'c', memoryBytes: 120 * Mi }] }, th, mem(90 * Mi)),
    'The node was low on resource: memory. Threshold quantity: 100Mi, available: 90Mi. ', 'no container over its request');
  const inodes: Threshold = { signal: 'nodefs.inodesFree', value: { percentage: 0.05 }, gracePeriodMs: 0 };
  t.equal(evictionMessage('inodes', pod('x'), undefined, inodes, { 'nodefs.inodesFree': { available: 40, capacity: 1000 } }),
    'The node was low on resource: inodes. Threshold quantity: 50, available: 40. ');
});

t.test('signals from cgroup v1, /proc/meminfo fallback, statfs and pids', async (t) => {
  const dir = tempDir(t, 'tsk-eviction-');
  const meminfo = 'MemTotal:        8000000 kB\nMemFree:         1000000 kB\nMemAvailable:    5000000 kB\nInactive(file):  2000000 kB\n';
  t.same(memoryObservation(join(dir, 'none'), meminfo), { capacity: 8_192_000_000, available: 3_072_000_000 }, 'meminfo fallback');
  mkdirSync(join(dir, 'cg/memory'), { recursive: true });
  writeFileSync(join(dir, 'cg/memory/memory.usage_in_bytes'), '5000000000\n');
  writeFileSync(join(dir, 'cg/memory/memory.stat'), 'cache 1\ninactive_file 7\ntotal_inactive_file 1000000000\n');
  t.same(memoryObservation(join(dir, 'cg'), meminfo), { capacity: 8_192_000_000, available: 8_192_000_000 - 4_000_000_000 });
  mkdirSync(join(dir, 'proc/sys/kernel'), { recursive: true });
  writeFileSync(join(dir, 'proc/sys/kernel/pid_max'), '4194304\n');
  writeFileSync(join(dir, 'proc/sys/kernel/threads-max'), '10000\n');
  writeFileSync(join(dir, 'proc/loadavg'), '0.10 0.20 0.30 2/345 6789\n');
  writeFileSync(join(dir, 'proc/meminfo'), meminfo);
  t.same(pidObservation(join(dir, 'proc')), { capacity: 10_000, available: 9655 });
  const all = observeSignals({ nodefs: dir, imagefs: join(dir, 'missing'), cgroupRoot: join(dir, 'cg'), procRoot: join(dir, 'proc') });
  t.ok(all['nodefs.available']!.capacity > 0 && all['nodefs.available']!.available <= all['nodefs.available']!.capacity);
  t.notOk(all['imagefs.available'], 'no directory, no observation');
  t.ok(all['memory.available'] && all['pid.available']);
});

t.test('manager: disk reclaim first, then one pod at a time in rank order, never critical pods', async (t) => {
  const clock = new FakeClock(0);
  let obs: Observations = { 'imagefs.available': { available: 5, capacity: 100 } };
  const pods = [pod('critical', { priority: 2_000_000_000 }), pod('small'), pod('big')];
  const usage: UsageByPod = new Map([['critical', { containers: [], diskBytes: 99 }], ['small', { containers: [], diskBytes: 1 }], ['big', { containers: [{ name: 'c', diskBytes: 50 }], diskBytes: 50 }]]);
  const evicted: [string, number, string][] = [];
  const events: string[] = [];
  let reclaims = 0;
  let changes = 0;
  const m = new EvictionManager({
    config: evictionConfig(['eviction-hard=imagefs.available<10%', 'eviction-pressure-transition-period=1m']),
    clock,
    observe: () => obs,
    activePods: () => pods,
    usage: async () => usage,
    evict: async (p, e) => { evicted.push([p.metadata.name!, e.graceSeconds, e.message]); },
    reclaimDisk: async () => { reclaims++; if (reclaims === 1) obs = { 'imagefs.available': { available: 50, capacity: 100 } }; },
    recorder: { event: (o, type, reason, msg) => events.push(`${o.metadata.name} ${type} ${reason} ${msg}`) },
    onConditionsChanged: () => changes++,
  });
  t.equal(await m.synchronize(), undefined, 'image GC relieved the pressure');
  t.same([...m.conditions()], ['DiskPressure']);
  t.equal(changes, 1);
  t.same(evicted, []);

  obs = { 'imagefs.available': { available: 5, capacity: 100 } };
  clock.advance(10_000);
  t.equal((await m.synchronize())?.metadata.name, 'big');
  t.same(evicted, [['big', 1, 'The node was low on resource: ephemeral-storage. Threshold quantity: 10, available: 5. Container c was using 50, request is 0, has larger consumption of ephemeral-storage. ']]);
  t.match(events, [/^big Warning Evicted The node was low on resource: ephemeral-storage/]);
  clock.advance(1000);
  t.equal((await m.synchronize())?.metadata.name, 'small', 'next pod; the evicted one is not picked again');
  clock.advance(1000);
  t.equal(await m.synchronize(), undefined, 'the critical pod stays');
  t.equal(reclaims, 4);

  obs = { 'imagefs.available': { available: 90, capacity: 100 } };
  clock.advance(30_000);
  await m.synchronize();
  t.same([...m.conditions()], ['DiskPressure'], 'within the transition period');
  clock.advance(60_000);
  await m.synchronize();
  t.same([...m.conditions()], []);
  t.equal(changes, 2);
});

t.test('manager: soft thresholds evict with the pod grace period capped by eviction-max-pod-grace-period', async (t) => {
  const clock = new FakeClock(0);
  const got: number[] = [];
  const p = pod('p');
  (p.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds = 60;
  const m = new EvictionManager({
    config: evictionConfig(['eviction-hard=memory.available<1Mi', 'eviction-soft=memory.available<1Gi', 'eviction-soft-grace-period=memory.available=10s', 'eviction-max-pod-grace-period=20']),
    clock, observe: () => mem(500 * Mi), activePods: () => [p], usage: async () => new Map(),
    evict: async (_p, e) => { got.push(e.graceSeconds); },
  });
  t.equal(await m.synchronize(), undefined, 'grace period of the soft threshold not over');
  clock.advance(10_000);
  t.equal((await m.synchronize())?.metadata.name, 'p');
  t.same(got, [20]);
});

t.test('admission under pressure, as the kubelet', async (t) => {
  const tolerating = pod('tol');
  (tolerating.spec as { tolerations?: object[] }).tolerations = [{ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' }];
  const cases: [string, Pod, string[], string | undefined][] = [
    ['no pressure', pod('be'), [], undefined],
    ['BestEffort under memory pressure', pod('be'), ['MemoryPressure'], 'The node had condition: [MemoryPressure]. '],
    ['Burstable under memory pressure', pod('b', { memReq: '10Mi' }), ['MemoryPressure'], undefined],
    ['BestEffort tolerating the taint', tolerating, ['MemoryPressure'], undefined],
    ['anything under disk pressure', pod('b', { memReq: '10Mi' }), ['DiskPressure'], 'The node had condition: [DiskPressure]. '],
    ['tolerating pod under memory and disk pressure', tolerating, ['DiskPressure', 'MemoryPressure'], 'The node had condition: [MemoryPressure DiskPressure]. '],
    ['critical pod under disk pressure', pod('c', { priority: 2_000_001_000 }), ['DiskPressure'], undefined],
  ];
  for (const [name, p, conds, want] of cases) {
    const r = admitUnderPressure(p, new Set(conds));
    t.same(r && r.message, want, name);
    if (r) t.equal(r.reason, 'Evicted');
  }
});
