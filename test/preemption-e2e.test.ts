// Priority and preemption end to end, without containers: `tsk server --disable-agent --sim-nodes 1` and the real
// kubectl. Low-priority pods fill the simulated node's 32 CPUs; a high-priority pod preempts one of them, which is
// deleted with a Preempted event, and then runs on that node.
import t from 'tap';
import { kc, kubectl, startServer, waitFor, type TskProcess } from './harness.ts';

interface Pod { metadata: { name: string; uid: string; deletionTimestamp?: string }; spec: { nodeName?: string; priority?: number; priorityClassName?: string; preemptionPolicy?: string }; status: { phase?: string; nominatedNodeName?: string } }
const json = (s: TskProcess, args: string[]) => JSON.parse(kc(s, [...args, '-o', 'json']));
const pods = (s: TskProcess): Pod[] => json(s, ['get', 'pods']).items;

const pod = (name: string, cpu: string, priorityClassName?: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name.replace(/-\d+$/, '') } },
  spec: { ...(priorityClassName ? { priorityClassName } : {}), containers: [{ name: 'c', image: 'busybox:latest', resources: { requests: { cpu } } }] },
});

t.test('a high-priority pod preempts a low-priority one on a full simulated node', async (t) => {
  const s = await startServer(t, { disableAgent: true, keepPods: true, args: ['--sim-nodes', '1'] });
  await waitFor('simulated node Ready', () => {
    const n = json(s, ['get', 'nodes']).items as { status: { conditions?: { type: string; status: string }[] } }[];
    return n.length === 1 && n[0]!.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  }, 60_000);

  // The built-in classes exist from the start; user classes with kubectl's generator.
  const builtIn = kc(s, ['get', 'priorityclasses', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.value} {end}']);
  t.match(builtIn, /system-cluster-critical=2000000000/);
  t.match(builtIn, /system-node-critical=2000001000/);
  kc(s, ['create', 'priorityclass', 'low', '--value=10', '--description=batch']);
  kc(s, ['create', 'priorityclass', 'high', '--value=1000']);
  kc(s, ['create', 'priorityclass', 'polite', '--value=2000', '--preemption-policy=Never']);
  const dup = kubectl(s, ['create', 'priorityclass', 'system-mine', '--value=5']);
  t.not(dup.status, 0, 'system- prefix refused');

  const unknown = kubectl(s, ['apply', '-f', '-'], JSON.stringify(pod('stray', '1', 'nope')));
  t.not(unknown.status, 0);
  t.match(unknown.stderr, /pods "stray" is forbidden: no PriorityClass with name nope was found/);

  for (const i of [1, 2, 3, 4]) kc(s, ['apply', '-f', '-'], JSON.stringify(pod(`low-${i}`, '8', 'low')));
  await waitFor('4 low pods Running', () => pods(s).filter((p) => p.status.phase === 'Running').length === 4, 60_000);
  t.same(pods(s).map((p) => p.spec.priority), [10, 10, 10, 10], 'priority resolved from the class');

  // preemptionPolicy: Never waits instead of preempting.
  kc(s, ['apply', '-f', '-'], JSON.stringify(pod('polite', '8', 'polite')));
  await waitFor('polite pod unschedulable', () => {
    const ev = json(s, ['get', 'events', '--field-selector', 'involvedObject.name=polite,reason=FailedScheduling']).items as { message: string }[];
    return ev.some((e) => /preemption: not eligible due to preemptionPolicy=Never\./.test(e.message));
  }, 60_000);
  t.equal(pods(s).filter((p) => p.metadata.name.startsWith('low-')).length, 4, 'nothing preempted for a Never pod');
  kc(s, ['delete', 'pod', 'polite', '--wait=false']);

  const before = new Map(pods(s).map((p) => [p.metadata.name, p.metadata.uid]));
  kc(s, ['apply', '-f', '-'], JSON.stringify(pod('vip', '8', 'high')));
  const vip = await waitFor('vip Running', () => pods(s).find((p) => p.metadata.name === 'vip' && p.status.phase === 'Running'), 60_000);
  t.equal(vip.spec.nodeName, 'sim-1', 'the preemptor runs on the node it preempted');
  t.equal(vip.spec.priority, 1000);
  t.equal(vip.status.nominatedNodeName, 'sim-1', 'it was nominated there');
  const left = pods(s).filter((p) => p.metadata.name.startsWith('low-'));
  t.equal(left.length, 3, 'exactly one victim deleted');
  const victim = [...before.keys()].find((n) => n.startsWith('low-') && !left.some((p) => p.metadata.name === n))!;
  const ev = await waitFor('Preempted event', () => (json(s, ['get', 'events', '--field-selector', 'reason=Preempted']).items as { message: string; involvedObject: { name: string } }[])[0], 30_000);
  t.equal(ev.involvedObject.name, victim);
  t.equal(ev.message, `Preempted by pod ${(json(s, ['get', 'pod', 'vip']) as Pod).metadata.uid} on node sim-1`);
  t.match(kc(s, ['describe', 'pod', 'vip']), /Priority Class Name:\s+high/);
});
