import t from 'tap';
import { cpuQuantity, memQuantity, nodeMetricsFrom, podMetricsFrom, rateNanocores } from './metrics.ts';

const sample = (sec: number, nodeCpu: number, podCpu: number) => ({
  at: sec * 1000,
  summary: {
    node: { nodeName: 'n', cpu: { time: new Date(sec * 1000).toISOString(), usageCoreNanoSeconds: nodeCpu }, memory: { time: '', workingSetBytes: 2 * 1024 * 1024 } },
    pods: [{ podRef: { name: 'p', namespace: 'default', uid: 'u1' }, containers: [{ name: 'c', cpu: { time: new Date(sec * 1000).toISOString(), usageCoreNanoSeconds: podCpu }, memory: { time: '', workingSetBytes: 4096 } }] }],
  },
});

t.test('CPU is the rate of cumulative usage between two samples', async (t) => {
  t.equal(rateNanocores({ time: new Date(0).toISOString(), usageCoreNanoSeconds: 0 }, { time: new Date(2000).toISOString(), usageCoreNanoSeconds: 1e9 }), 5e8);
  t.equal(rateNanocores({ time: new Date(0).toISOString() }, { time: new Date(1).toISOString(), usageCoreNanoSeconds: 1 }), undefined);
  const n = nodeMetricsFrom(sample(10, 0, 0), sample(20, 5e9, 1e8));
  t.same(n, { cpu: 5e8, memory: 2 * 1024 * 1024, window: 10_000 });
  t.same(podMetricsFrom(sample(10, 0, 0), sample(20, 5e9, 1e8)), [{ namespace: 'default', name: 'p', containers: [{ name: 'c', cpu: 1e7, memory: 4096 }] }]);
  t.same(podMetricsFrom(sample(10, 0, 0), { ...sample(20, 0, 0), summary: { ...sample(20, 0, 0).summary, pods: [] } }), [], 'gone pods are dropped');
  t.equal(cpuQuantity(1e7), '10000000n');
  t.equal(memQuantity(4096), '4Ki');
});
