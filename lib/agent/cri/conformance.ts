// A shared case suite for CriRuntime implementations: the fake CRI (unit tests) and containerd (e2e) must agree on
// the behaviour the kubelet relies on.
import type { CriRuntime, PodSandboxConfig } from './types.ts';

/** The assertions used (tap's Test satisfies it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Assert = (...args: any[]) => unknown;
interface T { ok: Assert; equal: Assert; not: Assert; rejects: Assert }

export async function criConformance(t: T, cri: CriRuntime, o: { image: string; logDir: string; uid: string }): Promise<void> {
  t.ok((await cri.version()).runtime_name, 'version names the runtime');
  t.equal((await cri.status()).conditions.find((c) => c.type === 'RuntimeReady')?.status, true, 'runtime ready');
  t.equal(await cri.podSandboxStatus('0123456789abcdef'), undefined, 'unknown sandbox: undefined');
  t.equal(await cri.containerStatus('0123456789abcdef'), undefined, 'unknown container: undefined');
  t.ok(await cri.imageStatus(o.image), 'image present');
  t.equal(await cri.imageStatus('docker.io/library/never-imported:0'), undefined, 'unknown image: undefined');

  const sbConfig: PodSandboxConfig = {
    metadata: { name: 'conformance', namespace: 'default', uid: o.uid, attempt: 0 }, hostname: 'conformance', log_directory: o.logDir,
    labels: { 'io.kubernetes.pod.uid': o.uid, 'io.tsk.conformance': 'true' }, annotations: {},
    linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
  await t.rejects(cri.runPodSandbox({ ...sbConfig, metadata: { ...sbConfig.metadata, name: 'no-handler' } }, 'no-such-handler'), /no runtime for "no-such-handler" is configured/, 'an unknown runtime handler is refused');
  const sb = await cri.runPodSandbox(sbConfig);
  try {
    const st = await cri.podSandboxStatus(sb);
    t.equal(st?.state, 'SANDBOX_READY', 'sandbox ready');
    t.ok(st?.network?.ip, 'sandbox has an IP');
    t.equal((await cri.listPodSandbox({ label_selector: { 'io.tsk.conformance': 'true' } })).length, 1, 'list by label');
    const id = await cri.createContainer(sb, {
      metadata: { name: 'c', attempt: 0 }, image: { image: o.image }, command: ['sleep', '600'], log_path: 'c/0.log',
      labels: { 'io.tsk.conformance': 'true' }, envs: [{ key: 'A', value: 'b' }],
    }, sbConfig);
    t.equal((await cri.containerStatus(id))?.state, 'CONTAINER_CREATED', 'created');
    await cri.startContainer(id);
    const running = await cri.containerStatus(id);
    t.equal(running?.state, 'CONTAINER_RUNNING', 'running');
    t.ok(Number(running?.started_at) > 0, 'started_at set (int64 as string)');
    t.equal((await cri.listContainers({ pod_sandbox_id: sb })).length, 1, 'list by sandbox');
    t.equal((await cri.listContainers({ state: { state: 'CONTAINER_EXITED' }, pod_sandbox_id: sb })).length, 0, 'list by state');
    await cri.stopContainer(id, 1);
    const exited = await cri.containerStatus(id);
    t.equal(exited?.state, 'CONTAINER_EXITED', 'stopped');
    t.not(exited?.exit_code, 0, 'killed container has a non-zero exit code');
    await cri.stopContainer(id, 1);
    t.ok(true, 'stopping an exited container is fine');
    await cri.removeContainer(id);
    t.equal(await cri.containerStatus(id), undefined, 'removed');
  } finally {
    await cri.stopPodSandbox(sb);
    await cri.removePodSandbox(sb);
  }
  t.equal(await cri.podSandboxStatus(sb), undefined, 'sandbox removed');
}
