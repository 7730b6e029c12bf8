// The kubelet (on the fake CRI) against the real in-process registry: field-selected pod watch, status subresource
// writes, graceful deletion (deletionTimestamp → kill → delete with grace 0), node registration and its lease.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coordination, core, type KubeObject } from '../../client/types.ts';
import { MemoryStore } from '../../store/memory.ts';
import { createRegistry } from '../../server/registry/index.ts';
import { bootstrapObjects } from '../../server/registry/bootstrap.ts';
import { FakeCri } from '../cri/fake.ts';
import { RecordingRunner } from '../exec/runner.ts';
import { startKubelet } from './kubelet.ts';
import type { Pod } from './pod-types.ts';

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('kubelet with the in-process API registry', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsk-kubelet-reg-'));
  const store = new MemoryStore();
  const ac = new AbortController();
  const { client } = createRegistry({ store });
  await bootstrapObjects(client, { serviceCidr: '10.43.0.0/16' });
  const cri = new FakeCri(['docker.io/library/busybox:1.36']);
  const k = startKubelet({ client, cri, nodeName: 'node-a', dataDir, signal: ac.signal, nodeIP: '10.0.0.9', relistMs: 100, runner: new RecordingRunner(), clusterDns: ['10.43.0.10'] });
  t.teardown(async () => { await k.stop(); ac.abort(); store.close(); rmSync(dataDir, { recursive: true, force: true }); });
  await k.ready;

  const node = await client.get(core('nodes'), 'node-a');
  t.equal(node.metadata.labels?.['kubernetes.io/hostname'], 'node-a');
  t.ok(node.status?.nodeInfo?.kubeletVersion, 'node status written');
  await until('node lease', () => client.get(coordination('leases'), 'node-a', 'kube-node-lease'));

  await client.create(core('pods'), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
    spec: { nodeName: 'node-a', terminationGracePeriodSeconds: 5, containers: [{ name: 'c', image: 'docker.io/library/busybox:1.36' }] },
  } as KubeObject, 'default');
  await client.create(core('pods'), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'elsewhere', namespace: 'default' },
    spec: { nodeName: 'node-b', containers: [{ name: 'c', image: 'docker.io/library/busybox:1.36' }] },
  } as KubeObject, 'default');
  const running = await until('pod Running', async () => {
    const p = await client.get<Pod>(core('pods'), 'web', 'default');
    return p.status?.phase === 'Running' && p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && p;
  });
  t.equal(running.status?.hostIP, '10.0.0.9');
  t.equal(cri.sandboxes.size, 1, 'only the pod bound to this node runs');

  await client.delete(core('pods'), 'web', 'default');
  await until('pod gone', async () => { try { await client.get(core('pods'), 'web', 'default'); return false; } catch (e) { return (e as { code?: number }).code === 404; } });
  t.ok(cri.calls.some((c) => c.method === 'stopContainer'), 'containers stopped');
  t.equal(cri.sandboxes.size, 0, 'sandbox removed');
});
