// Storage end to end: `tsk server` in a network namespace with its own containerd, driven by kubectl. A claim of the
// default local-path class is provisioned on the node when its first pod is scheduled; a file a pod writes is read
// by a later pod; deleting the claim deletes the volume.
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxImageArchive } from '../lib/agent/images/builtin.ts';
import { createNetns, kc, kubectl, startServer, tempDir, waitFor } from './harness.ts';

const pod = (name: string, script: string) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: {
    restartPolicy: 'Never', terminationGracePeriodSeconds: 0,
    containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'Never', command: ['sh', '-c', script], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
  },
});

t.test('a local-path claim keeps a file across pods and is deleted with its claim', async (t) => {
  const work = tempDir(t, 'tsk-storage-e2e-');
  const netns = createNetns(t, '10.199.0.2');
  const dataDir = join(work, 'data');
  mkdirSync(join(dataDir, 'agent/images'), { recursive: true });
  writeFileSync(join(dataDir, 'agent/images/busybox.tar'), busyboxImageArchive());
  const server = await startServer(t, { netns, dataDir, nodeName: 'storage-e2e', args: ['--node-ip', '10.199.0.2'] });
  await waitFor('node Ready', () => kubectl(server, ['get', 'node', 'storage-e2e', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']).stdout === 'True', 90_000);

  t.match(kc(server, ['get', 'storageclass']), /local-path \(default\)\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer/);
  kc(server, ['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
  }));
  t.equal(kc(server, ['get', 'pvc', 'data', '-o', 'jsonpath={.spec.storageClassName}/{.status.phase}']), 'local-path/Pending', 'defaulted class; waits for a consumer');

  const finished = (name: string) => waitFor(`pod ${name} finished`, () => {
    const p = kubectl(server, ['get', 'pod', name, '-o', 'jsonpath={.status.phase}']).stdout;
    return p === 'Succeeded' || p === 'Failed' ? p : '';
  }, 90_000);
  kc(server, ['apply', '-f', '-'], pod('writer', 'echo persisted-data > /data/file'));
  t.equal(await finished('writer'), 'Succeeded');
  t.equal(kc(server, ['get', 'pvc', 'data', '-o', 'jsonpath={.status.phase}']), 'Bound');
  const pv = kc(server, ['get', 'pvc', 'data', '-o', 'jsonpath={.spec.volumeName}']).trim();
  const path = kc(server, ['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}']).trim();
  t.ok(path.startsWith(join(dataDir, 'storage', `${pv}_default_data`)), `volume under the node's storage dir: ${path}`);
  t.equal(readFileSync(join(path, 'file'), 'utf8'), 'persisted-data\n', 'the file is on the node');

  kc(server, ['delete', 'pod', 'writer', '--wait=true', '--timeout=60s']);
  kc(server, ['apply', '-f', '-'], pod('reader', 'grep -qx persisted-data /data/file'));
  t.equal(await finished('reader'), 'Succeeded', 'a new pod reads what the first one wrote');
  kc(server, ['delete', 'pod', 'reader', '--wait=true', '--timeout=60s']);

  kc(server, ['delete', 'pvc', 'data', '--wait=true', '--timeout=60s']);
  await waitFor('volume deleted', () => kubectl(server, ['get', 'pv', pv]).status !== 0, 60_000);
  t.ok(existsSync(join(dataDir, 'storage')), 'storage dir kept (its volume directories are swept by the node)');
});
