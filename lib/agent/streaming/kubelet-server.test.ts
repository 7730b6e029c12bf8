import t from 'tap';
import { ensureCertificates } from '../../server/pki/certificates.ts';
import { ensureLocalNodeCertificates } from '../../server/join/local-node.ts';
import { kubeletGet, readBody } from '../../server/streaming/kubelet-client.ts';
import type { CriRuntime } from '../cri/types.ts';
import { KubeletError, type Kubelet } from '../kubelet/kubelet.ts';
import { startKubeletServer } from './kubelet-server.ts';
import { resourceMetrics } from './stats.ts';
import { tempDir } from '../../test-fixture.ts';

t.test('the kubelet server answers only the API server, and serves logs and stats', async (t) => {
  const dataDir = tempDir(t, 'tsk-kubelet-server-');
  const certs = await ensureCertificates({ dataDir, nodeName: 'n1', nodeIps: ['127.0.0.1'] });
  await ensureLocalNodeCertificates({ dataDir, nodeName: 'n1', nodeIps: ['127.0.0.1'], server: 'https://127.0.0.1:6443', certs });
  const calls: unknown[] = [];
  const kubelet = {
    async logs(ns: string, pod: string, o: Record<string, unknown>) {
      calls.push({ ns, pod, container: o.container, tailLines: o.tailLines, follow: o.follow, previous: o.previous });
      if (pod === 'missing') throw new KubeletError(404, `pod ${ns}/${pod} is not on node n1`);
      return (async function* () { yield 'a\n'; yield 'b\n'; })();
    },
    informer: { cache: { list: () => [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' } }] } },
  } as unknown as Kubelet;
  const cri = { listContainerStats: async () => [] } as unknown as CriRuntime;
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const srv = await startKubeletServer({ kubelet, cri, dataDir, nodeName: 'n1', port: 0, host: '127.0.0.1', signal: ac.signal });
  const target = { host: '127.0.0.1', port: srv.port, nodeName: 'n1' };
  const apiserver = { caPem: certs.serverCaPem, certPem: certs.apiserverClientCertPem, keyPem: certs.apiserverClientKeyPem };

  const ok = await kubeletGet(target, apiserver, '/healthz');
  t.equal(ok.statusCode, 200);
  t.equal(await readBody(ok), 'ok');

  const admin = await kubeletGet(target, { ...apiserver, certPem: certs.adminCertPem, keyPem: certs.adminKeyPem }, '/healthz');
  t.equal(admin.statusCode, 403, 'other client certificates are refused');
  await readBody(admin);
  const anon = await kubeletGet(target, { caPem: certs.serverCaPem, certPem: '', keyPem: '' } as never, '/healthz').catch((e: Error) => e);
  t.ok(anon instanceof Error || anon.statusCode === 403, 'no client certificate: refused');

  const logs = await kubeletGet(target, apiserver, '/containerLogs/default/p/c?tailLines=2&follow=true');
  t.equal(logs.statusCode, 200);
  t.equal(await readBody(logs), 'a\nb\n');
  t.same(calls[0], { ns: 'default', pod: 'p', container: 'c', tailLines: 2, follow: true, previous: false });

  const missing = await kubeletGet(target, apiserver, '/containerLogs/default/missing/c');
  t.equal(missing.statusCode, 404);
  t.match(JSON.parse(await readBody(missing)), { kind: 'Status', code: 404, message: 'pod default/missing is not on node n1' });

  const stats = await kubeletGet(target, apiserver, '/stats/summary');
  const summary = JSON.parse(await readBody(stats));
  t.equal(summary.node.nodeName, 'n1');
  t.ok(summary.node.cpu.usageCoreNanoSeconds > 0);
  t.ok(summary.node.memory.workingSetBytes > 0);
  t.same(summary.pods, []);
  const podList = JSON.parse(await readBody(await kubeletGet(target, apiserver, '/pods')));
  t.match(podList, { kind: 'PodList', items: [{ metadata: { name: 'p' } }] }, '/pods: the pods bound to the node');
  const metrics = await readBody(await kubeletGet(target, apiserver, '/metrics/resource'));
  t.match(metrics, /^node_cpu_usage_seconds_total [\d.e+]+ \d{13}$/m);
  t.match(metrics, /^resource_scrape_error 0$/m);
  await srv.close();
});

t.test('resourceMetrics: upstream series names, labels and millisecond timestamps', async (t) => {
  const time = '2026-01-01T00:00:00.000Z';
  const text = resourceMetrics({
    node: { nodeName: 'n', cpu: { time, usageCoreNanoSeconds: 2_500_000_000 }, memory: { time, workingSetBytes: 1000 } },
    pods: [{ podRef: { name: 'p', namespace: 'ns', uid: 'u' }, containers: [{ name: 'c', cpu: { time, usageCoreNanoSeconds: 1e9 }, memory: { time, workingSetBytes: 42 } }], cpu: { time, usageCoreNanoSeconds: 1e9 }, memory: { time, workingSetBytes: 42 } }],
  });
  const ms = Date.parse(time);
  for (const line of [
    `container_cpu_usage_seconds_total{container="c",namespace="ns",pod="p"} 1 ${ms}`,
    `container_memory_working_set_bytes{container="c",namespace="ns",pod="p"} 42 ${ms}`,
    `node_cpu_usage_seconds_total 2.5 ${ms}`, `node_memory_working_set_bytes 1000 ${ms}`,
    `pod_cpu_usage_seconds_total{namespace="ns",pod="p"} 1 ${ms}`, `pod_memory_working_set_bytes{namespace="ns",pod="p"} 42 ${ms}`,
    '# TYPE node_cpu_usage_seconds_total counter', '# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes',
  ]) t.ok(text.split('\n').includes(line), line);
});
