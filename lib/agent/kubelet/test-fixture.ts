// Test fixture shared by the kubelet's unit tests (kubelet.test.ts, eviction/kubelet-evict.test.ts): a Kubelet on
// the fake CRI and a FakeClient, with a fake clock, a temp data dir and probe results the test sets by container.
import { core } from '../../client/types.ts';
import { FakeClient } from '../../client/fake.ts';
import { FakeClock } from '../../clock.ts';
import { FakeCri } from '../cri/fake.ts';
import { RecordingRunner } from '../exec/runner.ts';
import { tempDir, type Teardown } from '../../test-fixture.ts';
import { Kubelet } from './kubelet.ts';
import type { Pod } from './pod-types.ts';
import type { ProbeResult } from './probes.ts';

export const BUSYBOX = 'docker.io/library/busybox:1.36';

export type KubeletTestOptions = Partial<ConstructorParameters<typeof Kubelet>[0]>;

/** A Kubelet for node n1 (not started); on teardown its signal is aborted, then its data dir removed. */
export function kubeletFixture(t: Teardown, extra: KubeletTestOptions = {}, prefix = 'tsk-kubelet-') {
  const dataDir = tempDir(t, prefix);
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const client = new FakeClient();
  const cri = new FakeCri([BUSYBOX]);
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  cri.now = () => clock.now();
  const probeResults = new Map<string, ProbeResult>();
  const kubelet = new Kubelet({
    client, cri, nodeName: 'n1', dataDir, signal: ac.signal, clock, nodeIP: '192.168.1.10', relistMs: 0, runner: new RecordingRunner(), podCgroups: false,
    clusterDns: ['10.43.0.10'], probeRunner: async (_p, target) => ({ result: probeResults.get(target.container.name) ?? 'success' }), ...extra,
  });
  const get = async (name: string) => client.get<Pod>(core('pods'), name, 'default');
  /** Waits for the kubelet, syncs the named pod once more, and returns it. */
  const sync = async (name: string) => { const p = await get(name); await kubelet.idle(); kubelet.schedule(p.metadata.uid!); await kubelet.idle(); return get(name); };
  return { client, cri, clock, kubelet, get, sync, probeResults, dataDir };
}

/** A pod on n1 in namespace default with one busybox container "main" running `sleep 3600`. */
export const basePod = (name: string, spec: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { nodeName: 'n1', containers: [{ name: 'main', image: BUSYBOX, command: ['sleep', '3600'] }], ...spec },
});
