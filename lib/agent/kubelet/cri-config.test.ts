import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClient } from '../../client/fake.ts';
import { core } from '../../client/types.ts';
import { RecordingRunner } from '../exec/runner.ts';
import { containerConfig, linuxResources, sandboxConfig, securityContext } from './cri-config.ts';
import type { Pod } from './pod-types.ts';
import { containerMounts, setUpVolumes, tearDownPodDir } from './volumes.ts';

const pod = (spec: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { note: 'x' } },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'img' }], ...spec },
});

t.test('sandbox config: hostname, ports, labels, namespaces, log dir', async (t) => {
  const p = pod({ containers: [{ name: 'c', image: 'img', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, protocol: 'UDP', hostPort: 53 }, { containerPort: 9000 }] }], securityContext: { runAsUser: 1000, fsGroup: 2000, sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] } });
  const c = sandboxConfig(p, { logsRoot: '/d/pod-logs', attempt: 1, dns: { servers: ['10.43.0.10'], searches: [], options: [] } });
  t.same(c.metadata, { name: 'web', uid: 'u-1', namespace: 'shop', attempt: 1 });
  t.equal(c.hostname, 'web');
  t.equal(c.log_directory, '/d/pod-logs/shop_web_u-1');
  t.same(c.port_mappings, [{ protocol: 'TCP', container_port: 80, host_port: 8080, host_ip: '' }, { protocol: 'UDP', container_port: 53, host_port: 53, host_ip: '' }]);
  t.match(c.labels, { app: 'web', 'io.kubernetes.pod.uid': 'u-1', 'io.tsk.managed': 'true' });
  t.same(c.linux?.security_context?.namespace_options, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
  t.same(c.linux?.security_context?.supplemental_groups, [2000]);
  t.same(c.linux?.sysctls, { 'net.core.somaxconn': '1024' });
  const h = sandboxConfig(pod({ hostNetwork: true, hostPID: true }), { logsRoot: '/d', attempt: 0 });
  t.equal(h.hostname, undefined, 'host network keeps the node hostname');
  t.same(h.linux?.security_context?.namespace_options, { network: 'NODE', pid: 'NODE', ipc: 'POD' });
});

t.test('resources and security context', async (t) => {
  t.same(linuxResources({ name: 'c', image: 'i' }), { cpu_shares: 2, cpu_period: 100_000, oom_score_adj: 0 });
  t.same(linuxResources({ name: 'c', image: 'i', resources: { requests: { cpu: '250m' }, limits: { cpu: '1', memory: '128Mi' } } }),
    { cpu_shares: 256, cpu_period: 100_000, cpu_quota: 100_000, memory_limit_in_bytes: 128 * 1024 * 1024, oom_score_adj: 0 });
  const p = pod({ securityContext: { runAsUser: 1000, runAsGroup: 3000 } });
  const sc = securityContext(p, { name: 'c', image: 'i', securityContext: { runAsUser: 2000, privileged: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } } });
  t.match(sc, { privileged: true, readonly_rootfs: true, no_new_privs: true, run_as_user: { value: 2000 }, run_as_group: { value: 3000 }, capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['ALL'] } });
  const cc = containerConfig(p, { name: 'c', image: 'i', workingDir: '/app', tty: true }, { kind: 'regular', attempt: 3, env: [], mounts: [], image: 'docker.io/library/i:latest' });
  t.match(cc, { metadata: { name: 'c', attempt: 3 }, working_dir: '/app', tty: true, log_path: 'c/3.log', image: { image: 'docker.io/library/i:latest' } });
  t.match(cc.annotations, { 'io.tsk.container.kind': 'regular', 'io.kubernetes.container.restartCount': '3' });
});

t.test('volumes: configMap, secret, downwardAPI, projected token, emptyDir (Memory → tmpfs), hostPath; teardown', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsk-vol-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const client = new FakeClient();
  client.seed(core('configmaps'), { metadata: { name: 'cm', namespace: 'shop' }, data: { 'a.conf': 'A', b: 'B' } });
  client.seed(core('configmaps'), { metadata: { name: 'kube-root-ca.crt', namespace: 'shop' }, data: { 'ca.crt': 'CERT' } });
  client.seed(core('secrets'), { metadata: { name: 'sec', namespace: 'shop' }, data: { pw: Buffer.from('s3cret').toString('base64') } });
  const origCreateSub = client.createSubresource.bind(client);
  client.createSubresource = (async (ref, name, sub, body, ns) => {
    await origCreateSub(ref, name, sub, body, ns);
    return { ...body, status: { token: `token-for-${name}`, expirationTimestamp: '2030-01-01T00:00:00Z' } };
  }) as typeof client.createSubresource;
  const runner = new RecordingRunner();
  const p = pod({
    serviceAccountName: 'robot',
    volumes: [
      { name: 'cfg', configMap: { name: 'cm', items: [{ key: 'a.conf', path: 'conf/app.conf' }] } },
      { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
      { name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }, { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } }] } },
      { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'host', hostPath: { path: join(dir, 'host-data'), type: 'DirectoryOrCreate' } },
    ],
    containers: [{ name: 'c', image: 'i', volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }, { name: 'host', mountPath: '/data', subPath: 'sub' }, { name: 'mem', mountPath: '/cache' }] }],
  });
  const tokens = new Map();
  const paths = await setUpVolumes(p, { podsDir: join(dir, 'pods'), src: { configMap: (n) => client.get(core('configmaps'), n, 'shop'), secret: (n) => client.get(core('secrets'), n, 'shop') }, client, runner, field: {}, now: 0, tokens });
  t.equal(readFileSync(join(paths.get('cfg')!, 'conf/app.conf'), 'utf8'), 'A');
  t.equal(readFileSync(join(paths.get('sec')!, 'pw'), 'utf8'), 's3cret');
  t.equal(statSync(join(paths.get('sec')!, 'pw')).mode & 0o777, 0o400);
  t.equal(readFileSync(join(paths.get('info')!, 'labels'), 'utf8'), 'app="web"');
  t.equal(readFileSync(join(paths.get('kube-api-access')!, 'token'), 'utf8'), 'token-for-robot');
  t.equal(readFileSync(join(paths.get('kube-api-access')!, 'ca.crt'), 'utf8'), 'CERT');
  t.equal(readFileSync(join(paths.get('kube-api-access')!, 'namespace'), 'utf8'), 'shop');
  const tr = client.actions.find((a) => a.subresource === 'token')!;
  t.match(tr, { resource: 'serviceaccounts', name: 'robot', namespace: 'shop' });
  t.match(tr.object?.spec, { expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', name: 'web', uid: 'u-1' } });
  t.match(runner.lines()[0], /^mount -t tmpfs -o mode=0777,size=67108864 tmpfs .*\/volumes\/empty-dir\/mem$/);

  const mounts = containerMounts(p.spec.containers[0]!, paths, p);
  t.same(mounts.map((m) => [m.container_path, m.readonly]), [['/etc/app', true], ['/data', false], ['/cache', false]]);
  t.equal(mounts[1]!.host_path, join(dir, 'host-data', 'sub'));

  // A second pass does not rewrite unchanged files (no idle disk writes).
  const before = statSync(join(paths.get('cfg')!, 'conf/app.conf')).mtimeMs;
  await setUpVolumes(p, { podsDir: join(dir, 'pods'), src: { configMap: (n) => client.get(core('configmaps'), n, 'shop'), secret: (n) => client.get(core('secrets'), n, 'shop') }, client, runner, field: {}, now: 1, tokens });
  t.equal(statSync(join(paths.get('cfg')!, 'conf/app.conf')).mtimeMs, before, 'unchanged file untouched');
  t.equal(client.actions.filter((a) => a.subresource === 'token').length, 1, 'token cached');

  await tearDownPodDir(join(dir, 'pods'), 'u-1', runner);
  t.throws(() => statSync(join(dir, 'pods', 'u-1')));
});
