// Storage end to end: `tsk server` in a network namespace with its own containerd, driven by kubectl. A claim of the
// default local-path class is provisioned on the node when its first pod is scheduled; a file a pod writes is read
// by a later pod; deleting the claim deletes the volume.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kc, kubectl, startNetnsServer, waitFor } from './harness.ts';

const pod = (name: string, script: string) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: {
    restartPolicy: 'Never', terminationGracePeriodSeconds: 1,
    containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'Never', command: ['sh', '-c', script], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
  },
});

t.test('a local-path claim keeps a file across pods and is deleted with its claim', async (t) => {
  const { server, dataDir } = await startNetnsServer(t, { prefix: 'tsk-storage-e2e-', nodeName: 'storage-e2e' });

  t.match(kc(server, ['get', 'storageclass']), /local-path \(default\)\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer/);
  kc(server, ['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
  }));
  t.equal(kc(server, ['get', 'pvc', 'data', '-o', 'jsonpath={.spec.storageClassName}/{.status.phase}']), 'local-path/Pending', 'defaulted class; waits for a consumer');

  // Pods report through files on the volume (not their phase): no waiting for the kubelet's status of exited pods.
  kc(server, ['apply', '-f', '-'], pod('writer', 'echo persisted-data > /data/file; exec sleep 3600'));
  const pv = await waitFor('claim bound', () => {
    const r = kubectl(server, ['get', 'pvc', 'data', '-o', 'jsonpath={.status.phase}/{.spec.volumeName}']).stdout;
    return r.startsWith('Bound/') ? r.slice(6) : '';
  }, 60_000);
  const path = kc(server, ['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}']).trim();
  t.equal(path, join(dataDir, 'storage', `${pv}_default_data`), 'volume under the node\'s storage dir');
  t.equal(kc(server, ['get', 'pv', pv, '-o', 'jsonpath={.spec.claimRef.name}/{.status.phase}/{.spec.persistentVolumeReclaimPolicy}']), 'data/Bound/Delete');
  const written = await waitFor('writer wrote', () => existsSync(join(path, 'file')) && readFileSync(join(path, 'file'), 'utf8') === 'persisted-data\n', 90_000);
  t.ok(written, 'the file is on the node');

  kc(server, ['delete', 'pod', 'writer', '--wait=false']);
  kc(server, ['apply', '-f', '-'], pod('reader', 'grep -qx persisted-data /data/file && echo read-ok > /data/result; exec sleep 3600'));
  const read = await waitFor('reader result', () => existsSync(join(path, 'result')) && readFileSync(join(path, 'result'), 'utf8') === 'read-ok\n', 90_000);
  t.ok(read, 'a new pod reads what the first one wrote');
  t.match(kc(server, ['get', 'pod', 'reader', '-o', 'jsonpath={.spec.nodeName}']), 'storage-e2e');
  kc(server, ['delete', 'pod', 'reader', '--wait=false']);

  kc(server, ['delete', 'pvc', 'data', '--wait=false']);
  await waitFor('volume deleted', () => kubectl(server, ['get', 'pv', pv]).status !== 0, 60_000);
  t.ok(existsSync(join(dataDir, 'storage')), 'storage dir kept (its volume directories are swept by the node)');
});
