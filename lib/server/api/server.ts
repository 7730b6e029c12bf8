// Starts the API app on a port: plain HTTP for tests and the loopback dev flag; the TLS listener is the security
// layer's (it can serve the same app through `app.fetch`).
import { serve, type ServerType } from '@hono/node-server';
import type { Client } from '../../client/types.ts';
import type { Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import { MemoryStore } from '../../store/memory.ts';
import type { Store } from '../../store/types.ts';
import { bootstrapObjects } from '../registry/bootstrap.ts';
import { createRegistry } from '../registry/index.ts';
import type { Registry } from '../registry/registry.ts';
import type { ResourceCatalog } from '../resources/catalog.ts';
import type { ClusterSettings } from '../resources/types.ts';
import { createApiApp, type ApiAppOptions } from './app.ts';

const log = logger('api');

export interface StartApiServerOptions extends Omit<ApiAppOptions, 'registry'> {
  /** Default: a fresh MemoryStore (closed with the server). */
  store?: Store;
  catalog?: ResourceCatalog;
  config?: Partial<ClusterSettings>;
  clock?: Clock;
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Create default namespaces and the kubernetes service (default true). */
  bootstrap?: boolean;
  /** Address and port in-cluster clients reach this API server on (endpoints of the kubernetes service). */
  advertise?: { address: string; port: number };
  bookmarkIntervalMs?: number;
}

export interface ApiServer {
  app: ReturnType<typeof createApiApp>;
  registry: Registry;
  client: Client;
  store: Store;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(o: StartApiServerOptions = {}): Promise<ApiServer> {
  const ownStore = !o.store;
  const store = o.store ?? new MemoryStore();
  const { registry, client } = createRegistry({ store, catalog: o.catalog, config: o.config, clock: o.clock, admit: o.hooks?.admit, bookmarkIntervalMs: o.bookmarkIntervalMs });
  if (o.bootstrap !== false) await bootstrapObjects(client, { serviceCidr: registry.config.serviceCidr, advertiseAddress: o.advertise?.address, advertisePort: o.advertise?.port });
  const app = createApiApp({ ...o, registry });
  const host = o.host ?? '127.0.0.1';
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    const srv = serve({ fetch: app.fetch, port: o.port ?? 0, hostname: host }, (info) => resolve({ server: srv, port: info.port }));
    srv.once('error', reject);
  });
  log.info('API server listening', { url: `http://${host}:${port}` });
  return {
    app, registry, client, store, port, url: `http://${host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        const s = server as unknown as { close(cb: () => void): void; closeAllConnections?: () => void };
        s.close(() => resolve());
        s.closeAllConnections?.();
      });
      if (ownStore) await store.close();
    },
  };
}
