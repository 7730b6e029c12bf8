// The kubelet's side of port-forward: SPDY/3.1 frames inside binary WebSocket messages (kubectl 1.32,
// subprotocol SPDY/3.1+portforward.k8s.io). Each forwarded connection is a pair of streams (error, data) with the
// headers streamtype, port and requestid; the data stream is joined to a TCP connection to podIP:port.
import { connect } from 'node:net';
import { logger } from '../../log/logger.ts';
import { SpdySession, type SpdyStream } from './spdy-session.ts';
import type { WsConnection } from './websocket.ts';

const log = logger('kubelet/portforward');

export const PORTFORWARD_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

export function servePortForward(ws: WsConnection, podIp: string, allowedPorts?: number[]): SpdySession {
  const session = new SpdySession({
    client: false,
    write: (b) => { if (ws.isOpen) ws.send(b); },
    close: () => ws.close(1000),
  });
  ws.onMessage((d) => session.receive(d));
  ws.onClose(() => session.transportClosed());
  ws.onError(() => session.transportClosed());
  const errors = new Map<string, SpdyStream>();
  const datas = new Map<string, SpdyStream>();
  const pair = (id: string) => {
    const e = errors.get(id), d = datas.get(id);
    if (!e || !d) return;
    errors.delete(id);
    datas.delete(id);
    const port = Number(d.headers.port);
    const fail = (msg: string) => { e.end(Buffer.from(msg)); d.end(); };
    if (!Number.isInteger(port) || port <= 0 || port > 65535 || (allowedPorts && !allowedPorts.includes(port))) return fail(`invalid port ${d.headers.port}`);
    const sock = connect({ host: podIp, port });
    let connected = false;
    sock.on('connect', () => { connected = true; });
    sock.on('data', (b: Buffer) => d.write(b));
    sock.on('end', () => { d.end(); e.end(); });
    sock.on('error', (err) => {
      log.debug('port-forward connection failed', { podIp, port, err: String(err) });
      if (!connected) fail(`an error occurred forwarding ${port} -> ${port}: error forwarding port ${port} to pod ${podIp}: ${String(err.message)}`);
      else { d.end(); e.end(); }
    });
    sock.on('close', () => { d.end(); e.end(); });
    d.on('data', (b: Buffer) => sock.write(b));
    d.on('end', () => sock.end());
    d.on('reset', () => sock.destroy());
  };
  session.on('stream', (s: SpdyStream) => {
    const id = s.headers.requestid ?? '';
    if (s.headers.streamtype === 'error') { errors.set(id, s); pair(id); }
    else if (s.headers.streamtype === 'data') { datas.set(id, s); pair(id); }
    else s.reset(1);
  });
  return session;
}
