// The kubelet's side of exec/attach over SPDY/3.1 (kubectl's fallback, or KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false):
// the CRI stream server already speaks that protocol (streams error/stdin/stdout/stderr/resize, version negotiation
// through X-Stream-Protocol-Version, the exit Status on the error stream), so the upgrade is replayed to the CRI URL
// and the two connections are joined byte for byte, as the upstream kubelet's streaming proxy does.
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { logger } from '../../log/logger.ts';

const log = logger('kubelet/spdy');

/** True when the request asks for a SPDY/3.1 upgrade (rather than WebSocket). */
export function isSpdyUpgrade(req: Pick<IncomingMessage, 'headers'>): boolean {
  return String(req.headers.upgrade ?? '').toLowerCase().startsWith('spdy/');
}

/** The client's X-Stream-Protocol-Version offers, one per entry (header lines and comma-separated lists). */
export function streamProtocols(req: Pick<IncomingMessage, 'headersDistinct'>): string[] {
  return (req.headersDistinct['x-stream-protocol-version'] ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** The HTTP/1.1 upgrade request replayed to the CRI stream server's URL. */
export function criUpgradeRequest(criUrl: string, protocols: string[]): string {
  const u = new URL(criUrl);
  const lines = [`POST ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, 'Connection: Upgrade', 'Upgrade: SPDY/3.1',
    ...protocols.map((p) => `X-Stream-Protocol-Version: ${p}`), 'Content-Length: 0'];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Joins the client's upgraded connection to the CRI stream server: the CRI server's 101 (with the negotiated
 * protocol) and every SPDY frame after it pass through unchanged. `head` is what the client sent after its headers.
 */
export function proxySpdyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, criUrl: string): void {
  const u = new URL(criUrl);
  const upstream = connect({ host: u.hostname, port: Number(u.port) });
  const done = () => { upstream.destroy(); socket.destroy(); };
  upstream.on('connect', () => {
    upstream.write(criUpgradeRequest(criUrl, streamProtocols(req)));
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', (err) => {
    log.warn('CRI stream server connection failed', { err: String(err) });
    if (!socket.destroyed && socket.writable && upstream.bytesRead === 0) {
      const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'InternalError', code: 500, message: `error dialing the CRI stream server: ${err.message}` });
      socket.end(`HTTP/1.1 500 Error\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    } else done();
  });
  socket.on('error', done);
  upstream.on('close', () => socket.end());
  socket.on('close', () => upstream.end());
}
