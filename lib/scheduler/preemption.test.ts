import t from 'tap';
import type { KubeObject } from '../client/types.ts';
import { newNodeInfo, type NodeInfo } from './node-info.ts';
import { filterPodsWithPdbViolation, pickOneNodeForPreemption, planPreemption, selectVictimsOnNode, type Candidate } from './preemption.ts';
import { schedulePod } from './schedule.ts';

const node = (name: string, o: { cpu?: string; pods?: string; taints?: unknown[] } = {}): KubeObject => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: { taints: o.taints },
  status: { allocatable: { cpu: o.cpu ?? '4', memory: '8Gi', pods: o.pods ?? '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});
let uid = 0;
const pod = (name: string, o: { cpu?: string; prio?: number; start?: string; labels?: Record<string, string>; never?: boolean; nominated?: string; node?: string; ports?: number[] } = {}): KubeObject => ({
  metadata: { name, namespace: 'default', uid: `u-${name}-${++uid}`, labels: o.labels },
  spec: {
    priority: o.prio ?? 0, nodeName: o.node, preemptionPolicy: o.never ? 'Never' : 'PreemptLowerPriority',
    containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: o.cpu ?? '1' } }, ports: o.ports?.map((p) => ({ containerPort: p, hostPort: p })) }],
  },
  status: { phase: 'Running', startTime: o.start ?? '2026-01-01T00:00:00Z', nominatedNodeName: o.nominated },
});
const pdb = (name: string, labels: Record<string, string>, allowed: number): KubeObject =>
  ({ metadata: { name, namespace: 'default' }, spec: { selector: { matchLabels: labels } }, status: { disruptionsAllowed: allowed } }) as KubeObject;
const names = (ps: KubeObject[]) => ps.map((p) => p.metadata.name);
const infos = (spec: [KubeObject, KubeObject[]][]): NodeInfo[] => spec.map(([n, ps]) => newNodeInfo(n, ps));

t.test('selectVictimsOnNode', async (t) => {
  type Case = { name: string; pod: KubeObject; node: KubeObject; pods: KubeObject[]; pdbs?: KubeObject[]; victims?: string[]; violations?: number; reasons?: string[] };
  const cases: Case[] = [
    { name: 'removes the fewest lower-priority pods, least important first', pod: pod('hi', { cpu: '2', prio: 100 }), node: node('a'),
      pods: [pod('l1', { prio: 1 }), pod('l2', { prio: 2 }), pod('l3', { prio: 3 }), pod('l4', { prio: 4 })], victims: ['l2', 'l1'], violations: 0 },
    { name: 'equal priority: the newer pod goes first', pod: pod('hi', { cpu: '1', prio: 10 }), node: node('a'),
      pods: [pod('old', { start: '2026-01-01T00:00:00Z' }), pod('new', { start: '2026-01-02T00:00:00Z' }), pod('x'), pod('y', { start: '2025-01-01T00:00:00Z' })], victims: ['new'], violations: 0 },
    { name: 'equal or higher priority pods are never victims', pod: pod('hi', { cpu: '2', prio: 5 }), node: node('a'),
      pods: [pod('same', { prio: 5, cpu: '2' }), pod('higher', { prio: 9, cpu: '2' })], reasons: [NO_VICTIMS_REASON()] },
    { name: 'does not fit even with all victims gone', pod: pod('hi', { cpu: '3', prio: 5 }), node: node('a'),
      pods: [pod('low', { prio: 1, cpu: '1' }), pod('higher', { prio: 9, cpu: '2' })], reasons: ['Insufficient cpu'] },
    { name: 'budget-violating pods are reprieved first', pod: pod('hi', { cpu: '1', prio: 10 }), node: node('a'),
      pods: [pod('guarded', { prio: 1, labels: { app: 'db' } }), pod('free', { prio: 1, labels: { app: 'web' } }), pod('a1', { prio: 9 }), pod('a2', { prio: 9 })],
      pdbs: [pdb('db', { app: 'db' }, 0)], victims: ['free'], violations: 0 },
    { name: 'a budget violation when nothing else frees room', pod: pod('hi', { cpu: '4', prio: 10 }), node: node('a'),
      pods: [pod('guarded', { prio: 1, labels: { app: 'db' } }), pod('free', { prio: 2, labels: { app: 'web' } })],
      pdbs: [pdb('db', { app: 'db' }, 0)], victims: ['free', 'guarded'], violations: 1 },
    { name: 'host port held by a lower-priority pod', pod: pod('hi', { cpu: '0', prio: 10, ports: [80] }), node: node('a'),
      pods: [pod('web', { prio: 1, ports: [80], cpu: '0' }), pod('other', { prio: 1, cpu: '0' })], victims: ['web'], violations: 0 },
  ];
  for (const c of cases) {
    const info = newNodeInfo(c.node, c.pods);
    const r = selectVictimsOnNode(c.pod, info, { nodes: [info], pdbs: c.pdbs });
    if (c.reasons) t.same('reasons' in r ? r.reasons : names(r.victims), c.reasons, c.name);
    else if ('reasons' in r) t.fail(`${c.name}: ${r.reasons}`);
    else t.same([names(r.victims), r.pdbViolations], [c.victims, c.violations], c.name);
    t.equal(info.pods.length, c.pods.length, `${c.name}: the snapshot is untouched`);
  }
});

function NO_VICTIMS_REASON() { return 'No preemption victims found for incoming pod'; }

t.test('filterPodsWithPdbViolation counts down allowed disruptions', async (t) => {
  const ps = [pod('a', { labels: { app: 'x' } }), pod('b', { labels: { app: 'x' } }), pod('c', { labels: { app: 'y' } }), pod('d')];
  const r = filterPodsWithPdbViolation(ps, [pdb('x', { app: 'x' }, 1), pdb('y', { app: 'y' }, 0)]);
  t.same([names(r.violating), names(r.nonViolating)], [['b', 'c'], ['a', 'd']]);
  const disrupted = { ...pdb('y', { app: 'y' }, 0), status: { disruptionsAllowed: 0, disruptedPods: { c: '2026-01-01T00:00:00Z' } } } as KubeObject;
  t.same(names(filterPodsWithPdbViolation(ps, [disrupted]).violating), [], 'a pod already in disruptedPods is not counted');
});

t.test('pickOneNodeForPreemption criteria, in order', async (t) => {
  const c = (node: string, victims: KubeObject[], pdbViolations = 0): Candidate => ({ node, victims, pdbViolations });
  type Case = { name: string; cands: Candidate[]; want: string };
  const cases: Case[] = [
    { name: 'fewest budget violations', cands: [c('a', [pod('1', { prio: 1 })], 1), c('b', [pod('2', { prio: 5 }), pod('3', { prio: 5 })], 0)], want: 'b' },
    { name: 'lowest highest-victim priority', cands: [c('a', [pod('1', { prio: 5 })]), c('b', [pod('2', { prio: 3 }), pod('3', { prio: 3 }), pod('4', { prio: 3 })])], want: 'b' },
    { name: 'smallest sum of priorities', cands: [c('a', [pod('1', { prio: 3 }), pod('2', { prio: 2 })]), c('b', [pod('3', { prio: 3 }), pod('4', { prio: 1 })])], want: 'b' },
    { name: 'negative priorities: fewer pods still win on the shifted sum', cands: [c('a', [pod('1', { prio: -5 }), pod('2', { prio: -5 })]), c('b', [pod('3', { prio: -5 })])], want: 'b' },
    { name: 'fewest victims', cands: [c('a', [pod('1', { prio: 0 }), pod('2', { prio: 0 })]), c('b', [pod('3', { prio: 0 })])], want: 'b' },
    { name: 'latest start of the highest-priority victims', cands: [
      c('a', [pod('1', { prio: 2, start: '2026-01-01T00:00:00Z' })]), c('b', [pod('2', { prio: 2, start: '2026-01-03T00:00:00Z' })])], want: 'b' },
    { name: 'then the first', cands: [c('a', [pod('1')]), c('b', [pod('2')])], want: 'a' },
  ];
  for (const x of cases) t.equal(pickOneNodeForPreemption(x.cands)?.node, x.want, x.name);
  t.equal(pickOneNodeForPreemption([]), undefined);
});

t.test('planPreemption: candidates, messages, eligibility', async (t) => {
  const full = (n: string, prio = 0) => [pod(`${n}-1`, { prio, cpu: '2' }), pod(`${n}-2`, { prio, cpu: '2' })];
  const plan = (p: KubeObject, nodes: NodeInfo[], pdbs?: KubeObject[]) => {
    const r = schedulePod(p, nodes);
    if (!('message' in r)) throw new Error('expected the pod not to fit');
    return planPreemption(p, r.reasons, { nodes, pdbs });
  };
  const hi = pod('hi', { cpu: '2', prio: 100 });
  const nodes = infos([[node('a'), full('a', 50)], [node('b'), full('b', 10)], [node('t', { taints: [{ key: 'k', effect: 'NoSchedule' }] }), full('t', 0)]]);
  const r = plan(hi, nodes);
  t.same('candidate' in r ? [r.candidate.node, names(r.candidate.victims)] : r, ['b', ['b-2']], 'the node whose victims matter least; tainted node not considered');
  t.same(plan(pod('never', { cpu: '2', prio: 100, never: true }), nodes), { message: 'preemption: not eligible due to preemptionPolicy=Never.' });
  t.same(plan(pod('low', { cpu: '2', prio: 0 }), nodes), {
    message: 'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
  });
  t.same(plan(pod('huge', { cpu: '8', prio: 100 }), nodes), {
    message: 'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 Insufficient cpu.',
  });
  // A pod already nominated to b, whose victim is still terminating, waits instead of preempting more.
  const dying = { ...pod('b-2', { prio: 10, cpu: '2' }), metadata: { ...pod('b-2').metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } } as KubeObject;
  dying.status.conditions = [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }];
  const waiting = infos([[node('a'), full('a', 50)], [node('b'), [pod('b-1', { prio: 10, cpu: '2' }), dying]]]);
  t.same(plan(pod('hi', { cpu: '2', prio: 100, nominated: 'b' }), waiting), { message: 'preemption: not eligible due to a terminating pod on the nominated node.' });
});

t.test('nominated pods hold their room against lower-priority pods', async (t) => {
  const nodes = infos([[node('a', { cpu: '4' }), [pod('x', { cpu: '2' })]], [node('b', { cpu: '4' }), [pod('y', { cpu: '3' })]]]);
  const nominated = new Map([['a', [pod('nom', { cpu: '2', prio: 100, nominated: 'a' })]]]);
  for (const prio of [1, 100]) {
    const r = schedulePod(pod('low', { cpu: '2', prio }), nodes, { nominated });
    t.same('message' in r ? r.message : r.node, '0/2 nodes are available: 2 Insufficient cpu.', `priority ${prio}: the nominated pod (100) counts`);
  }
  const high = schedulePod(pod('high', { cpu: '2', prio: 200 }), nodes, { nominated });
  t.equal('node' in high ? high.node : high.message, 'a', 'higher priority: it does not');
});

t.test('resolvable reasons and the nominated node check', async (t) => {
  const { resolvable, notEligibleToPreempt } = await import('./preemption.ts');
  const cases: [string[], boolean][] = [
    [['Insufficient cpu', 'Too many pods'], true],
    [["node(s) didn't have free ports for the requested pod ports"], true],
    [["node(s) didn't match pod anti-affinity rules"], true],
    [["node(s) didn't match pod topology spread constraints"], true],
    [["node(s) didn't match pod topology spread constraints (missing required label)"], false],
    [['node(s) had untolerated taint {k: }'], false],
    [["node(s) didn't match Pod's node affinity/selector"], false],
    [['node(s) were unschedulable'], false],
    [['Insufficient cpu', 'node(s) were unschedulable'], false],
  ];
  for (const [r, want] of cases) t.equal(resolvable(r), want, r.join(', '));
  const dying = { ...pod('v', { prio: 1, node: 'a' }), metadata: { name: 'v', namespace: 'default', uid: 'v', deletionTimestamp: '2026-01-01T00:00:00Z' } } as KubeObject;
  dying.status.conditions = [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }];
  const nodes = infos([[node('a'), [dying]]]);
  const p = pod('p', { prio: 10, nominated: 'a' });
  t.equal(notEligibleToPreempt(p, nodes, { a: ['Insufficient cpu'] }), 'not eligible due to a terminating pod on the nominated node.');
  t.equal(notEligibleToPreempt(p, nodes, { a: ['node(s) had untolerated taint {k: }'] }), undefined, 'nominated node no longer usable: may preempt elsewhere');
  const evicted = { ...dying, status: { ...dying.status, conditions: [] } } as KubeObject;
  t.equal(notEligibleToPreempt(p, infos([[node('a'), [evicted]]]), { a: ['Insufficient cpu'] }), undefined, 'terminating for another reason does not block');
});
