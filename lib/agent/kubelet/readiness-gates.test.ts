// Pod readiness gates: Ready is True only when the containers are ready and every gate's condition is True.
import t from 'tap';
import type { Pod, PodCondition } from './pod-types.ts';
import type { PodRuntimeState } from './runtime-state.ts';
import { computePodStatus } from './status.ts';

const now = Date.parse('2026-01-01T00:00:00Z');
const cond = (type: string, status: 'True' | 'False' | 'Unknown'): PodCondition => ({ type, status, lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' });

function pod(gates: string[], conditions: PodCondition[]): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { nodeName: 'n1', containers: [{ name: 'main', image: 'busybox' }], ...(gates.length ? { readinessGates: gates.map((conditionType) => ({ conditionType })) } : {}) },
    status: { phase: 'Running', conditions },
  } as Pod;
}

const running: PodRuntimeState = {
  sandboxes: [{ id: 'sb', state: 'SANDBOX_READY', attempt: 0, createdAt: now, ip: '10.42.0.5' }],
  containers: [{
    id: 'c1', sandboxId: 'sb', name: 'main', kind: 'regular' as never, attempt: 0, state: 'CONTAINER_RUNNING', hash: '', image: 'busybox',
    imageRef: 'sha256:x', createdAt: now, startedAt: now, finishedAt: 0, exitCode: 0, reason: '', message: '', logPath: '',
  }],
};

const cases: { name: string; gates: string[]; conditions: PodCondition[]; containersReady?: boolean; ready: { status: string; reason?: string; message?: string } }[] = [
  { name: 'no gates, containers ready', gates: [], conditions: [], ready: { status: 'True' } },
  { name: 'gate condition True', gates: ['example.com/lb'], conditions: [cond('example.com/lb', 'True')], ready: { status: 'True' } },
  {
    name: 'gate condition missing', gates: ['example.com/lb'], conditions: [],
    ready: { status: 'False', reason: 'ReadinessGatesNotReady', message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist.' },
  },
  {
    name: 'gate condition False', gates: ['example.com/lb'], conditions: [cond('example.com/lb', 'False')],
    ready: { status: 'False', reason: 'ReadinessGatesNotReady', message: 'the status of pod readiness gate "example.com/lb" is not "True", but False' },
  },
  {
    name: 'two gates, one missing, one Unknown', gates: ['a', 'b'], conditions: [cond('b', 'Unknown')],
    ready: {
      status: 'False', reason: 'ReadinessGatesNotReady',
      message: 'corresponding condition of pod readiness gate "a" does not exist., the status of pod readiness gate "b" is not "True", but Unknown',
    },
  },
  { name: 'two gates, both True', gates: ['a', 'b'], conditions: [cond('a', 'True'), cond('b', 'True')], ready: { status: 'True' } },
  {
    name: 'containers not ready: their reason wins over the gates', gates: ['example.com/lb'], conditions: [], containersReady: false,
    ready: { status: 'False', reason: 'ContainersNotReady' },
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const p = pod(c.gates, c.conditions);
    const st = computePodStatus(p, running, { now, waiting: new Map(), ready: () => c.containersReady !== false, started: () => true });
    const ready = st.conditions!.find((x) => x.type === 'Ready')!;
    t.match(ready, c.ready);
    if (c.ready.status === 'True') t.notOk(ready.reason ?? ready.message, 'no reason when Ready');
    if (c.ready.reason === 'ContainersNotReady') t.notOk(ready.message, 'no gate message');
    t.equal(st.conditions!.find((x) => x.type === 'ContainersReady')!.status, c.containersReady === false ? 'False' : 'True', 'ContainersReady ignores the gates');
    for (const g of c.conditions) t.same(st.conditions!.find((x) => x.type === g.type), g, `gate condition ${g.type} kept as set`);
  });
}
