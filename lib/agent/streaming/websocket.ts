// The one adapter for the `ws` library: server-side upgrades (with the subprotocol choice), a client connect, and a
// connection reduced to what tsk uses (send, close, message/close/error). Everything else imports this file, never
// `ws`. The kubelet loads this module lazily (see kubelet-server.ts): importing it loads `ws`.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

/** One WebSocket connection; messages always arrive as a Buffer (binary or text frames alike). */
export interface WsConnection {
  /** The negotiated subprotocol ('' when none was selected). */
  readonly protocol: string;
  readonly isOpen: boolean;
  send(data: Buffer): void;
  close(code?: number): void;
  /** Drops the connection without a close handshake. */
  terminate(): void;
  onMessage(fn: (data: Buffer) => void): void;
  onClose(fn: () => void): void;
  onError(fn: (err: Error) => void): void;
}

function wrap(ws: WebSocket): WsConnection {
  // Messages that arrive before a listener is attached (a client's first message right after 'open') are kept.
  const listeners: ((data: Buffer) => void)[] = [];
  let early: Buffer[] | undefined = [];
  ws.on('message', (d: Buffer | ArrayBuffer | Buffer[]) => {
    const b = toBuffer(d);
    if (early) early.push(b);
    else for (const fn of listeners) fn(b);
  });
  return {
    get protocol() { return ws.protocol; },
    get isOpen() { return ws.readyState === WebSocket.OPEN; },
    send: (data) => ws.send(data),
    close: (code) => ws.close(code),
    terminate: () => ws.terminate(),
    onMessage: (fn) => {
      listeners.push(fn);
      if (early) { const queued = early; early = undefined; for (const b of queued) fn(b); }
    },
    onClose: (fn) => { ws.once('close', () => fn()); },
    onError: (fn) => { ws.on('error', fn); },
  };
}

function toBuffer(d: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(d)) return d;
  if (Array.isArray(d)) return Buffer.concat(d);
  return Buffer.from(d);
}

export interface UpgradeOptions {
  /** Picks the subprotocol among the client's offers; false (or no function) selects none. */
  selectProtocol?: (offered: Set<string>) => string | false;
  /** A Sec-WebSocket-Protocol answered on every upgrade whatever the client offered (kubectl's port-forward). */
  announceProtocol?: string;
}

/** Accepts HTTP upgrades (from an http/https server's 'upgrade' event) as WebSocket connections. */
export interface WsUpgrader {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, fn: (conn: WsConnection) => void): void;
  /** Terminates every connection this upgrader accepted that is still open. */
  terminateAll(): void;
}

export function createUpgrader(o: UpgradeOptions = {}): WsUpgrader {
  const select = o.selectProtocol;
  const wss = new WebSocketServer({ noServer: true, ...(select ? { handleProtocols: (p: Set<string>) => select(p) } : {}) });
  const announce = o.announceProtocol;
  if (announce) wss.on('headers', (headers) => headers.push(`Sec-WebSocket-Protocol: ${announce}`));
  return {
    handleUpgrade: (req, socket, head, fn) => wss.handleUpgrade(req, socket, head, (ws) => fn(wrap(ws))),
    terminateAll: () => { for (const c of wss.clients) c.terminate(); },
  };
}

/** Opens a client connection; resolves once open (rejects on a failed handshake). */
export function connectWebSocket(url: string, protocols: string[] = []): Promise<WsConnection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    const onError = (err: Error) => reject(err);
    ws.once('error', onError);
    ws.once('open', () => { ws.off('error', onError); resolve(wrap(ws)); });
  });
}
