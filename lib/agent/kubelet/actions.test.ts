import t from 'tap';
import { computePodActions, type ActionContext } from './actions.ts';
import { containerHash } from './labels.ts';
import type { ContainerSpec, Pod } from './pod-types.ts';
import type { PodRuntimeState, RuntimeContainer, RuntimeSandbox } from './runtime-state.ts';
import { computePhase } from './status.ts';

const img = 'busybox';
const spec = (name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({ name, image: img, ...extra });

function pod(p: Partial<Pod['spec']> & { deleting?: boolean; phase?: string } = {}): Pod {
  const { deleting, phase, ...spec_ } = p;
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { containers: [spec('app')], ...spec_ },
    ...(phase ? { status: { phase: phase as 'Succeeded' } } : {}),
  };
}

let seq = 0;
const sb = (over: Partial<RuntimeSandbox> = {}): RuntimeSandbox => ({ id: 'sb1', state: 'SANDBOX_READY', attempt: 0, createdAt: 1, ip: '10.42.0.5', ...over });
function c(name: string, state: RuntimeContainer['state'], over: Partial<RuntimeContainer> = {}): RuntimeContainer {
  const s = spec(name);
  return {
    id: `c${++seq}`, sandboxId: 'sb1', name, kind: 'regular', attempt: 0, state, hash: containerHash(s), image: img, imageRef: 'sha256:x',
    createdAt: 100 - seq, startedAt: 1, finishedAt: 2, exitCode: 0, reason: '', message: '', logPath: '', ...over,
  };
}
const st = (containers: RuntimeContainer[], sandboxes: RuntimeSandbox[] = [sb()]): PodRuntimeState => ({ sandboxes, containers });
const ctx = (o: Partial<ActionContext> = {}): ActionContext => ({ inBackoff: () => false, probeKill: () => false, started: () => true, ...o });

interface Case {
  name: string;
  pod: Pod;
  state: PodRuntimeState;
  ctx?: Partial<ActionContext>;
  want: Partial<ReturnType<typeof computePodActions>>;
}

const cases: Case[] = [
  { name: 'new pod: sandbox and all containers', pod: pod({ containers: [spec('a'), spec('b')] }), state: st([], []), want: { createSandbox: true, killPod: false, sandboxAttempt: 0, startContainers: ['a', 'b'] } },
  { name: 'new pod with init containers: only the first init', pod: pod({ initContainers: [spec('i1'), spec('i2')] }), state: st([], []), want: { createSandbox: true, startInit: 'i1', startContainers: [] } },
  { name: 'first init done: second init', pod: pod({ initContainers: [spec('i1'), spec('i2')] }), state: st([c('i1', 'CONTAINER_EXITED')]), want: { startInit: 'i2', startContainers: [] } },
  { name: 'init running: wait', pod: pod({ initContainers: [spec('i1')] }), state: st([c('i1', 'CONTAINER_RUNNING')]), want: { startInit: undefined, startContainers: [] } },
  { name: 'inits done: containers', pod: pod({ initContainers: [spec('i1')] }), state: st([c('i1', 'CONTAINER_EXITED')]), want: { startContainers: ['app'] } },
  { name: 'init failed, Always: restart it', pod: pod({ initContainers: [spec('i1')] }), state: st([c('i1', 'CONTAINER_EXITED', { exitCode: 1 })]), want: { startInit: 'i1' } },
  { name: 'init failed in backoff', pod: pod({ initContainers: [spec('i1')] }), state: st([c('i1', 'CONTAINER_EXITED', { exitCode: 1 })]), ctx: { inBackoff: () => true }, want: { startInit: undefined, backoff: ['i1'] } },
  { name: 'init failed, Never: pod fails', pod: pod({ restartPolicy: 'Never', initContainers: [spec('i1')] }), state: st([c('i1', 'CONTAINER_EXITED', { exitCode: 1 })]), want: { terminal: true, killPod: true } },
  { name: 'sidecar starts, next init waits until it runs', pod: pod({ initContainers: [spec('side', { restartPolicy: 'Always' }), spec('i2')] }), state: st([], []), want: { createSandbox: true, startInit: 'side' } },
  { name: 'sidecar running: next init', pod: pod({ initContainers: [spec('side', { restartPolicy: 'Always' }), spec('i2')] }), state: st([c('side', 'CONTAINER_RUNNING', { hash: '' })]), want: { startInit: 'i2' } },
  { name: 'sidecar not started (startup probe): wait', pod: pod({ initContainers: [spec('side', { restartPolicy: 'Always' }), spec('i2')] }), state: st([c('side', 'CONTAINER_RUNNING', { hash: '' })]), ctx: { started: () => false }, want: { startInit: undefined, startContainers: [] } },
  { name: 'sidecar exited after the pod started: restarted even with Never', pod: pod({ restartPolicy: 'Never', initContainers: [spec('side', { restartPolicy: 'Always' })] }), state: st([c('side', 'CONTAINER_EXITED', { exitCode: 1 }), c('app', 'CONTAINER_RUNNING')]), want: { startInit: 'side', startContainers: [] } },
  { name: 'running: nothing to do', pod: pod(), state: st([c('app', 'CONTAINER_RUNNING')]), want: { createSandbox: false, killPod: false, startContainers: [], killContainers: [] } },
  { name: 'exited, Always: restart', pod: pod(), state: st([c('app', 'CONTAINER_EXITED')]), want: { startContainers: ['app'] } },
  { name: 'exited, backoff', pod: pod(), state: st([c('app', 'CONTAINER_EXITED', { exitCode: 1 })]), ctx: { inBackoff: () => true }, want: { startContainers: [], backoff: ['app'] } },
  { name: 'exited 0, OnFailure: done → terminal', pod: pod({ restartPolicy: 'OnFailure' }), state: st([c('app', 'CONTAINER_EXITED')]), want: { startContainers: [], terminal: true, killPod: true } },
  { name: 'exited 1, OnFailure: restart', pod: pod({ restartPolicy: 'OnFailure' }), state: st([c('app', 'CONTAINER_EXITED', { exitCode: 1 })]), want: { startContainers: ['app'] } },
  { name: 'exited, Never: terminal', pod: pod({ restartPolicy: 'Never' }), state: st([c('app', 'CONTAINER_EXITED', { exitCode: 1 })]), want: { terminal: true, killPod: true } },
  { name: 'liveness failed: kill and restart', pod: pod(), state: st([c('app', 'CONTAINER_RUNNING', { id: 'live' })]), ctx: { probeKill: (_n, id) => id === 'live' }, want: { killContainers: [{ id: 'live', name: 'app', reason: 'probe failed' }], startContainers: ['app'] } },
  { name: 'spec changed: kill and restart', pod: pod(), state: st([c('app', 'CONTAINER_RUNNING', { id: 'old', hash: 'different' })]), want: { killContainers: [{ id: 'old', name: 'app', reason: 'spec changed' }], startContainers: ['app'] } },
  { name: 'sandbox died: new sandbox, attempt+1', pod: pod(), state: st([c('app', 'CONTAINER_EXITED')], [sb({ state: 'SANDBOX_NOTREADY', attempt: 2 })]), want: { createSandbox: true, killPod: false, sandboxAttempt: 3, startContainers: ['app'] } },
  { name: 'sandbox without IP: recreate', pod: pod(), state: st([], [sb({ ip: undefined })]), want: { createSandbox: true, killPod: true } },
  { name: 'hostNetwork sandbox needs no IP', pod: pod({ hostNetwork: true }), state: st([c('app', 'CONTAINER_RUNNING')], [sb({ ip: undefined })]), want: { createSandbox: false } },
  { name: 'sandbox died, Never, containers ran: terminal', pod: pod({ restartPolicy: 'Never' }), state: st([c('app', 'CONTAINER_EXITED', { exitCode: 137 })], [sb({ state: 'SANDBOX_NOTREADY' })]), want: { terminal: true, createSandbox: false } },
  { name: 'deleting: kill', pod: pod({ deleting: true }), state: st([c('app', 'CONTAINER_RUNNING')]), want: { killPod: true, createSandbox: false, startContainers: [] } },
  { name: 'deleting, already stopped', pod: pod({ deleting: true }), state: st([c('app', 'CONTAINER_EXITED')], [sb({ state: 'SANDBOX_NOTREADY' })]), want: { killPod: false } },
  { name: 'terminal phase: never start again', pod: pod({ phase: 'Succeeded' }), state: st([c('app', 'CONTAINER_EXITED')], [sb({ state: 'SANDBOX_NOTREADY' })]), want: { terminal: true, killPod: false, createSandbox: false, startContainers: [] } },
];

for (const tc of cases) {
  t.test(tc.name, async (t) => {
    t.match(computePodActions(tc.pod, tc.state, ctx(tc.ctx)), tc.want);
  });
}

t.test('old exited containers beyond the newest two per name are removed', async (t) => {
  const cs = [c('app', 'CONTAINER_RUNNING', { id: 'n1', createdAt: 30 }), c('app', 'CONTAINER_EXITED', { id: 'n2', createdAt: 20 }), c('app', 'CONTAINER_EXITED', { id: 'n3', createdAt: 10 })];
  t.same(computePodActions(pod(), st(cs), ctx()).removeContainers, ['n3']);
});

t.test('phase', async (t) => {
  const s = (state: object, last: object = {}) => ({ name: 'x', state, lastState: last, ready: false, restartCount: 0, image: '', imageID: '' });
  const p = (restartPolicy: 'Always' | 'Never' | 'OnFailure') => pod({ restartPolicy });
  t.equal(computePhase(p('Always'), [], [s({ waiting: { reason: 'ContainerCreating' } })], true), 'Pending');
  t.equal(computePhase(p('Always'), [], [s({ running: {} })], true), 'Running');
  t.equal(computePhase(p('Always'), [], [s({ waiting: { reason: 'CrashLoopBackOff' } }, { terminated: { exitCode: 1 } })], true), 'Running');
  t.equal(computePhase(p('Never'), [], [s({ terminated: { exitCode: 0 } }), s({ terminated: { exitCode: 0 } })], true), 'Succeeded');
  t.equal(computePhase(p('Never'), [], [s({ terminated: { exitCode: 0 } }), s({ terminated: { exitCode: 2 } })], true), 'Failed');
  t.equal(computePhase(p('OnFailure'), [], [s({ terminated: { exitCode: 0 } })], true), 'Succeeded');
  t.equal(computePhase(p('Never'), [], [s({ running: {} }), s({ terminated: { exitCode: 2 } })], true), 'Running');
  t.equal(computePhase(p('Never'), [s({ terminated: { exitCode: 1 } })], [s({ waiting: {} })], false), 'Failed');
  t.equal(computePhase(p('Always'), [s({ terminated: { exitCode: 1 } })], [s({ waiting: {} })], false), 'Pending');
});
