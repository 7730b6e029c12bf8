// Start order of `tsk server`: store → secure API server (certificates, token, RBAC, kubeconfig) → controllers,
// scheduler and cluster services → the node (unless --disable-agent). Shutdown runs in reverse.
import type { ServerConfig } from '../config.ts';
import { logger } from '../log/logger.ts';
import { openStore } from '../store/open.ts';
import { instrumentStore } from '../store/instrumented.ts';
import { enableEncryption } from './encryption/config.ts';
import { startControllers } from '../controllers/manager.ts';
import { startNodeIpam } from '../controllers/node-ipam.ts';
import { startServiceLb } from '../controllers/servicelb.ts';
import { startCrdController } from './crd/index.ts';
import { startSecureServer } from './auth/secure-server.ts';
import { defaultNodeIP } from '../agent/kubelet/kubelet.ts';
import type { NodeComponents } from '../agent/node-run.ts';
import { ensureKubeDnsService } from '../agent/dns/kube-dns.ts';
import { attachStreamingUpgrades, nodeProxyRoutes, streamingSubresourceHandlers, type StreamingOptions } from './streaming/index.ts';
import { podServiceProxyRoutes } from './streaming/proxy.ts';
import { componentStatusRoutes, componentstatuses } from './api/component-status.ts';
import { signCsr } from './pki/csr-sign.ts';
import { MetricsCollector, metricsClient, metricsRoutes, metricsStrategies } from './metrics-api/metrics.ts';
import { ensureLocalPathStorageClass } from '../controllers/local-path.ts';
import { ensureRuntimeClasses } from './registry/bootstrap.ts';

const log = logger('server');

export async function runServer(config: ServerConfig, signal: AbortSignal): Promise<void> {
  const started = Date.now();
  const nodeIp = config.nodeIp ?? defaultNodeIP();
  // Before the API server reads the encryption config (it re-encrypts existing Secrets with the first provider).
  if (config.secretsEncryption) enableEncryption(config.dataDir, 'aesgcm');
  const store = instrumentStore(await openStore({ dataDir: config.dataDir }));
  const stops: (() => Promise<void>)[] = [async () => store.close()];
  const ac = new AbortController();
  const inner = AbortSignal.any([signal, ac.signal]);
  try {
    // Logs, exec, attach, port-forward and metrics reach the kubelets with the API server's client certificate,
    // known once the secure server has started: the handlers read `streaming` at request time.
    const streaming = {} as StreamingOptions;
    const collector = new MetricsCollector(streaming);
    // The store answers a read ("etcd" in /livez, /readyz and componentstatuses, as kine answers for k3s).
    const storeHealthy = async () => { await store.get('/registry/health'); return true; };
    let controllersReady = false;
    const controllersHealthy = () => { if (!controllersReady) throw new Error('controllers are starting'); return true; };
    const api = await startSecureServer({
      dataDir: config.dataDir, nodeName: config.nodeName, nodeIps: [nodeIp], tlsSans: config.tlsSan, token: config.token,
      store, host: config.bindAddress, port: config.httpsListenPort,
      config: { serviceCidr: config.serviceCidr, clusterDomain: config.clusterDomain },
      writeKubeconfig: config.writeKubeconfig, writeKubeconfigMode: config.writeKubeconfigMode,
      advertise: { address: nodeIp, port: config.httpsListenPort },
      insecureHttpLoopbackPort: config.insecureHttpLoopbackPort,
      // The server's own node gets its kubelet certificates here (no join); none without a node.
      localNodeCertificates: !config.disableAgent,
      app: {
        subresourceHandlers: streamingSubresourceHandlers(streaming),
        routes: (a) => {
          metricsRoutes(collector, streaming)(a); nodeProxyRoutes(streaming)(a); podServiceProxyRoutes(streaming)(a);
          componentStatusRoutes({ scheduler: controllersHealthy, 'controller-manager': controllersHealthy, 'etcd-0': storeHealthy })(a);
        },
        health: { livez: { etcd: storeHealthy }, readyz: { etcd: storeHealthy, 'etcd-readiness': storeHealthy, shutdown: () => !signal.aborted } },
      },
    });
    stops.push(() => api.close());
    const client = api.client;
    streaming.client = client;
    streaming.creds = { caPem: api.certs.serverCaPem, certPem: api.certs.apiserverClientCertPem, keyPem: api.certs.apiserverClientKeyPem };
    for (const s of [...metricsStrategies, componentstatuses]) api.registry.catalog.add(s);
    const detachUpgrades = attachStreamingUpgrades(api.httpServer as never, { ...streaming, check: (req) => api.security.checkUpgrade(req) });
    stops.push(async () => detachUpgrades());
    const crd = startCrdController({ client, catalog: api.registry.catalog, signal: inner });
    await crd.ready;
    const controllers = startControllers({
      client: metricsClient(client, collector), signal: inner, leaderElection: { identity: config.nodeName }, caPem: api.certs.serverCaPem,
      signCsr: (r) => signCsr(api.certs, r), disabled: config.disable,
    });
    stops.push(() => controllers.stop());
    void startNodeIpam({ client, clusterCidr: config.clusterCidr, signal: inner }).catch((e) => log.error('node IPAM stopped', { err: String(e) }));
    if (!config.disable.includes('servicelb')) void startServiceLb({ client, signal: inner }).catch((e) => log.error('servicelb stopped', { err: String(e) }));
    await ensureKubeDnsService(client, { clusterDns: config.clusterDns });
    if (!config.disable.includes('local-storage')) await ensureLocalPathStorageClass(client);
    if (!config.disable.includes('runtimes')) await ensureRuntimeClasses(client);
    await controllers.ready;
    controllersReady = true;
    log.info('control plane ready', { url: api.url, ms: Date.now() - started });
    if (config.simNodes && config.simNodes > 0) {
      // Benchmarks and controller tests: simulated nodes that take their pods to Running without containers.
      const { startSimNodes } = await import('../sim/nodes.ts');
      void startSimNodes({ client, count: config.simNodes, signal: inner }).ready.catch(() => {});
    }

    let node: NodeComponents | undefined;
    if (!config.disableAgent) {
      const { startNodeComponents } = await import('../agent/node-run.ts');
      node = await startNodeComponents({
        client, dataDir: config.dataDir, nodeName: config.nodeName, nodeIp, clusterCidr: config.clusterCidr,
        clusterDns: config.clusterDns, clusterDomain: config.clusterDomain, containerRuntimeEndpoint: config.containerRuntimeEndpoint,
        defaultRuntime: config.defaultRuntime,
        controlPlane: true, nodeLabels: config.nodeLabels, nodeTaints: config.nodeTaints, signal: inner, kubeletArgs: config.kubeletArgs,
      });
      const n = node;
      stops.push(() => n.stop());
      void node.ready.then(() => log.info('node ready', { node: config.nodeName, ms: Date.now() - started }));
    }
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    log.info('shutting down');
  } finally {
    ac.abort();
    for (const stop of stops.reverse()) {
      await stop().catch((e) => log.warn('error while stopping', { err: String(e) }));
    }
  }
}
