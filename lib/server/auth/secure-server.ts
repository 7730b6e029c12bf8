// The secure API server in one call: certificates, join token, Secrets encryption at rest, the registry with the
// security hooks, bootstrap RBAC policy, the HTTPS listener and the admin kubeconfig. run.ts calls this.
import type { Client } from '../../client/types.ts';
import type { Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import type { Store } from '../../store/types.ts';
import { createApiApp, type ApiAppOptions } from '../api/app.ts';
import { startLiveEncryption } from '../encryption/reload.ts';
import { ensureServerToken, readServerSecret } from '../join/token.ts';
import { ensureLocalNodeCertificates, type LocalNodeCertificates } from '../join/local-node.ts';
import { ensureCertificates, type ServerCertificates } from '../pki/certificates.ts';
import { writeKubeconfig } from '../pki/kubeconfig.ts';
import { servePlainLoopback, serveTls, type TlsListener } from '../pki/serve-tls.ts';
import { bootstrapObjects } from '../registry/bootstrap.ts';
import { createRegistry, type Registry } from '../registry/index.ts';
import type { ClusterSettings } from '../resources/types.ts';
import { ensureBootstrapPolicy } from './aggregation.ts';
import { reviewStrategies } from './reviews.ts';
import { Security } from './security.ts';

const log = logger('server/secure');

export interface SecureServerOptions {
  dataDir: string;
  nodeName: string;
  nodeIps?: string[];
  tlsSans?: string[];
  /** --token: the join secret (bare or K10 form). */
  token?: string;
  store: Store;
  host?: string;
  /** 0 for any free port (tests). */
  port: number;
  config?: Partial<ClusterSettings>;
  clock?: Clock;
  /** Where to write the admin kubeconfig (skip when undefined). */
  writeKubeconfig?: string;
  writeKubeconfigMode?: string;
  /** Extra routes and subresource handlers from other subsystems (logs, exec...). */
  app?: Pick<ApiAppOptions, 'routes' | 'subresourceHandlers' | 'health'>;
  bookmarkIntervalMs?: number;
  /** Address and port in-cluster clients reach this API server on (endpoints of the kubernetes service). */
  advertise?: { address: string; port: number };
  /** Development only: also serve the API without authentication over plain HTTP on 127.0.0.1:PORT. */
  insecureHttpLoopbackPort?: number;
  /**
   * Write kubelet certificates for this machine's own node to <data-dir>/agent/ (client-kubelet, serving-kubelet,
   * client-ca, server-ca, kubelet.kubeconfig), as a joined agent has them. Default true.
   */
  localNodeCertificates?: boolean;
}

export interface SecureServer {
  url: string;
  port: number;
  certs: ServerCertificates;
  /** The full K10 join token (also in <data-dir>/server/token). */
  token: string;
  security: Security;
  /** The HTTPS listener (node:https Server): attach 'upgrade' handlers here and check them with security.checkUpgrade. */
  httpServer: TlsListener['server'];
  registry: Registry;
  /** In-process client (no HTTP, no authorization): for controllers. */
  client: Client;
  /** The server node's kubelet certificates (unless localNodeCertificates is false). */
  localNode?: LocalNodeCertificates;
  close(): Promise<void>;
}

function firstIp(cidr: string): string {
  const [base] = cidr.split('/');
  const o = base!.split('.').map(Number);
  o[3] = (o[3] ?? 0) + 1;
  return o.join('.');
}

export async function startSecureServer(o: SecureServerOptions): Promise<SecureServer> {
  const serviceCidr = o.config?.serviceCidr ?? '10.43.0.0/16';
  const certs = await ensureCertificates({ dataDir: o.dataDir, nodeName: o.nodeName, nodeIps: o.nodeIps, tlsSans: o.tlsSans, serviceIp: firstIp(serviceCidr) });
  const { token, secret } = ensureServerToken({ dataDir: o.dataDir, caPem: certs.serverCaPem, token: o.token });
  const fixedSecret = o.token ? secret : undefined;

  // Re-encrypts stored Secrets now and again whenever `tsk secrets-encrypt` edits the config.
  const encryption = await startLiveEncryption({ dataDir: o.dataDir, store: o.store });
  const store = encryption.store;

  const ac = new AbortController();
  let security: Security | undefined;
  const { registry, client } = createRegistry({ store, config: o.config, clock: o.clock, admit: (a) => security!.admit(a), bookmarkIntervalMs: o.bookmarkIntervalMs });
  security = new Security({ certs, client, joinSecret: () => fixedSecret ?? readServerSecret(o.dataDir) });
  security.installTokenSubresource(registry.catalog);
  for (const s of reviewStrategies) registry.catalog.add(s);
  await bootstrapObjects(client, { serviceCidr, advertiseAddress: o.advertise?.address, advertisePort: o.advertise?.port });
  await ensureBootstrapPolicy(client);
  await security.start(ac.signal);

  const sec = security;
  const app = createApiApp({
    registry,
    hooks: sec.hooks(),
    health: o.app?.health,
    routes: (a) => {
      sec.routes(a);
      o.app?.routes?.(a);
    },
    subresourceHandlers: { ...sec.subresourceHandlers(), ...(o.app?.subresourceHandlers ?? {}) },
  });
  const listener = await serveTls({ fetch: app.fetch, certs, host: o.host ?? '0.0.0.0', port: o.port });
  let plain: Awaited<ReturnType<typeof servePlainLoopback>> | undefined;
  if (o.insecureHttpLoopbackPort !== undefined) {
    // No hooks: every request is the cluster admin. Same registry, so the same data and admission.
    const open = createApiApp({ registry, health: o.app?.health, routes: (a) => { sec.routes(a); o.app?.routes?.(a); }, subresourceHandlers: { ...sec.subresourceHandlers(), ...(o.app?.subresourceHandlers ?? {}) } });
    plain = await servePlainLoopback({ fetch: open.fetch, port: o.insecureHttpLoopbackPort });
    log.warn('serving the API WITHOUT authentication on loopback', { url: plain.url });
  }
  const localUrl = `https://127.0.0.1:${listener.port}`;
  const localNode = o.localNodeCertificates === false ? undefined
    : await ensureLocalNodeCertificates({ dataDir: o.dataDir, nodeName: o.nodeName, nodeIps: o.nodeIps, server: localUrl, certs });
  if (o.writeKubeconfig) {
    writeKubeconfig({ path: o.writeKubeconfig, mode: o.writeKubeconfigMode, server: localUrl, caPem: certs.serverCaPem, certPem: certs.adminCertPem, keyPem: certs.adminKeyPem });
  }
  log.info('secure API server listening', { url: listener.url });
  return {
    url: localUrl,
    port: listener.port,
    certs,
    token,
    security: sec,
    httpServer: listener.server,
    localNode,
    registry,
    client,
    async close() {
      ac.abort();
      encryption.close();
      await plain?.close();
      await listener.close();
    },
  };
}
