// The HTTPS listener for the API app: the serving certificate, and client certificates requested and verified
// against the client CA (unverified or absent ones simply don't authenticate; the request may use a token).
import { serve, type ServerType } from '@hono/node-server';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ServerCertificates } from './certificates.ts';
import { servingTlsOptions } from './certificates.ts';

export interface TlsListener {
  server: ServerType;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function serveTls(o: {
  fetch: (req: Request, env: unknown) => Response | Promise<Response>;
  certs: Pick<ServerCertificates, 'servingCertPem' | 'servingKeyPem' | 'serverCaPem' | 'clientCaPem'>;
  port?: number;
  host?: string;
}): Promise<TlsListener> {
  const host = o.host ?? '127.0.0.1';
  const server = await new Promise<ServerType>((resolve, reject) => {
    const srv = serve({ fetch: o.fetch, port: o.port ?? 0, hostname: host, createServer, serverOptions: servingTlsOptions(o.certs) }, () => resolve(srv));
    srv.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    server,
    port,
    url: `https://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        const s = server as unknown as { close(cb: () => void): void; closeAllConnections?: () => void };
        s.close(() => resolve());
        s.closeAllConnections?.();
      }),
  };
}

/** The verified client certificate of a request served by serveTls (hono: c.env.incoming). */
export function verifiedClientCert(env: unknown): { cn: string; o: string[] } | undefined {
  const sock = (env as { incoming?: { socket?: TLSSocket } } | undefined)?.incoming?.socket;
  if (!sock || typeof sock.getPeerCertificate !== 'function' || !sock.authorized) return undefined;
  const peer = sock.getPeerCertificate();
  const cn = peer?.subject?.CN;
  if (!cn) return undefined;
  const o = peer.subject.O;
  return { cn: Array.isArray(cn) ? cn[0]! : cn, o: o === undefined ? [] : Array.isArray(o) ? o : [o] };
}

/** Development only: the same kind of app over plain HTTP on loopback (`--insecure-http-loopback`). */
export async function servePlainLoopback(o: { fetch: (req: Request, env: unknown) => Response | Promise<Response>; port: number }): Promise<TlsListener> {
  const server = await new Promise<ServerType>((resolve, reject) => {
    const srv = serve({ fetch: o.fetch, port: o.port, hostname: '127.0.0.1' }, () => resolve(srv));
    srv.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        const s = server as unknown as { close(cb: () => void): void; closeAllConnections?: () => void };
        s.close(() => resolve());
        s.closeAllConnections?.();
      }),
  };
}
