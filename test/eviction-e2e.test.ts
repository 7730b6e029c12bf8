// Node-pressure eviction end to end: `tsk server` in a network namespace with its own containerd and a seeded busybox
// image, with --kubelet-arg=eviction-hard=memory.available<(all of the machine's memory), so the node is under memory
// pressure from its first observation (deterministic: available = capacity − working set < capacity). The node
// reports MemoryPressure and gets the memory-pressure taint; a pod without a toleration is kept away by the
// scheduler; one bound to the node directly is rejected by the kubelet's admission; a BestEffort pod that tolerates
// the taint is admitted and then evicted (Failed, Evicted, an Evicted event); the node stays Ready and the process alive.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { kc, kubectl, startNetnsServer, waitFor } from './harness.ts';

const NODE = 'eviction-e2e';

const pod = (name: string, tolerate: boolean, nodeName?: string) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: {
    ...(nodeName ? { nodeName } : {}),
    terminationGracePeriodSeconds: 30,
    ...(tolerate ? { tolerations: [{ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' }] } : {}),
    containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'Never', command: ['sleep', '3600'] }],
  },
});

t.test('memory pressure: condition and taint on the node, a BestEffort pod evicted, the node stays up', async (t) => {
  const memTotalKi = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
  const { server } = await startNetnsServer(t, {
    prefix: 'tsk-eviction-e2e-', nodeName: NODE, ready: false,
    args: ['--kubelet-arg', `eviction-hard=memory.available<${memTotalKi}Ki`, '--kubelet-arg=eviction-pressure-transition-period=30s'],
  });
  const node = () => JSON.parse(kc(server, ['get', 'node', NODE, '-o', 'json']));
  const cond = (n: { status?: { conditions?: { type: string }[] } }, type: string) => n.status?.conditions?.find((c) => c.type === type) as { status: string; reason: string; message: string } | undefined;

  const n = await waitFor('node Ready with MemoryPressure and the taint', () => {
    const r = kubectl(server, ['get', 'node', NODE, '-o', 'json']);
    if (r.status !== 0) return undefined;
    const o = JSON.parse(r.stdout);
    const tainted = (o.spec?.taints ?? []).some((x: { key: string; effect: string }) => x.key === 'node.kubernetes.io/memory-pressure' && x.effect === 'NoSchedule');
    return cond(o, 'Ready')?.status === 'True' && cond(o, 'MemoryPressure')?.status === 'True' && tainted ? o : undefined;
  }, 90_000);
  t.match(cond(n, 'MemoryPressure'), { status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' });
  t.match(cond(n, 'DiskPressure'), { status: 'False', reason: 'KubeletHasNoDiskPressure' });
  t.equal(n.status.allocatable.memory, '0Ki', 'allocatable memory holds back the hard threshold');

  await waitFor('default service account', () => kubectl(server, ['get', 'serviceaccount', 'default']).status === 0, 60_000);
  kc(server, ['apply', '-f', '-'], pod('blocked', false));
  kc(server, ['apply', '-f', '-'], pod('besteffort', true));
  kc(server, ['apply', '-f', '-'], pod('direct', false, NODE));

  const evicted = await waitFor('the BestEffort pod evicted', () => {
    const r = kubectl(server, ['get', 'pod', 'besteffort', '-o', 'json']);
    if (r.status !== 0) return undefined;
    const p = JSON.parse(r.stdout);
    return p.status?.phase === 'Failed' ? p : undefined;
  }, 60_000);
  t.equal(evicted.status.reason, 'Evicted');
  t.match(evicted.status.message, /^The node was low on resource: memory\. Threshold quantity: \d+(Ki|Mi|Gi)?, available: \d+(Ki|Mi|Gi)?\. /);
  t.equal(evicted.status.qosClass, 'BestEffort');
  const events = await waitFor('Evicted event', () => {
    const r = kubectl(server, ['get', 'events', '-o', 'json']);
    if (r.status !== 0) return undefined;
    const list = JSON.parse(r.stdout).items.filter((e: { involvedObject: { name: string }; reason: string }) => e.involvedObject.name === 'besteffort' && e.reason === 'Evicted');
    return list.length ? list : undefined;
  }, 30_000);
  t.match(events[0], { type: 'Warning', source: { component: 'kubelet', host: NODE }, message: /^The node was low on resource: memory\./ });
  await waitFor('its container stopped', () => {
    const p = JSON.parse(kc(server, ['get', 'pod', 'besteffort', '-o', 'json']));
    return p.status?.containerStatuses?.[0]?.state?.terminated ? true : undefined;
  }, 30_000);

  const direct = await waitFor('a BestEffort pod bound to the node without the toleration is rejected', () => {
    const p = JSON.parse(kc(server, ['get', 'pod', 'direct', '-o', 'json']));
    return p.status?.phase === 'Failed' ? p : undefined;
  }, 30_000);
  t.match(direct.status, { reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });

  const blocked = JSON.parse(kc(server, ['get', 'pod', 'blocked', '-o', 'json']));
  t.notOk(blocked.spec.nodeName, 'a pod without the toleration is not scheduled to the node');
  t.match(blocked.status?.conditions?.find((c: { type: string }) => c.type === 'PodScheduled'), { status: 'False', reason: 'Unschedulable', message: /memory-pressure/ });

  t.equal(server.child.exitCode, null, 'tsk is still running');
  t.equal(cond(node(), 'Ready')?.status, 'True', 'the node stays Ready');
});
