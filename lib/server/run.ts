// Start order of `tsk server`: store, certificates, API server, controllers and scheduler, then the node.
import type { ServerConfig } from '../config.ts';
import { logger } from '../log/logger.ts';
import { openStore } from '../store/open.ts';
import { startApiServer, type ApiServer } from './api/server.ts';

const log = logger('server');

export async function runServer(config: ServerConfig, signal: AbortSignal): Promise<void> {
  const store = await openStore({ dataDir: config.dataDir });
  let api: ApiServer | undefined;
  try {
    if (config.insecureHttpLoopbackPort === undefined) {
      // TODO(security): serve the same app over TLS on config.bindAddress:config.httpsListenPort.
      log.warn('the TLS listener is not wired yet; start with --insecure-http-loopback PORT for a plain HTTP API on 127.0.0.1');
    }
    api = await startApiServer({
      store,
      host: '127.0.0.1',
      port: config.insecureHttpLoopbackPort ?? 0,
      config: { serviceCidr: config.serviceCidr, clusterDomain: config.clusterDomain },
      advertise: config.nodeIp ? { address: config.nodeIp, port: config.httpsListenPort } : undefined,
    });
    log.info('API server ready', { url: api.url });
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    log.info('shutting down');
  } finally {
    await api?.close();
    await store.close();
  }
}
