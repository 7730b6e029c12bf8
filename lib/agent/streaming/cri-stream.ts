// The kubelet's side of exec/attach: the client's WebSocket (v5.channel.k8s.io, or v4) bridged to the CRI stream
// server's URL over SPDY/3.1 (v4.channel.k8s.io), which, unlike its WebSocket endpoint, can half-close stdin.
import { connect, type Socket } from 'node:net';
import type { WsConnection } from './websocket.ts';
import { logger } from '../../log/logger.ts';
import { SpdySession, type SpdyStream } from './spdy-session.ts';

const log = logger('kubelet/stream');

/** Upgrades a connection to the CRI stream URL (http://127.0.0.1:port/exec/token) to SPDY/3.1. */
export function connectCriSpdy(url: string, protocol = 'v4.channel.k8s.io', timeoutMs = 10_000): Promise<SpdySession> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock: Socket = connect({ host: u.hostname, port: Number(u.port) });
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('CRI stream server did not answer')); }, timeoutMs);
    let head = Buffer.alloc(0);
    sock.once('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('connect', () => {
      sock.write(`POST ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\nContent-Length: 0\r\n\r\n`);
    });
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      clearTimeout(timer);
      const status = /^HTTP\/1\.1 (\d+)/.exec(head.toString('latin1'))?.[1];
      if (status !== '101') {
        sock.destroy();
        reject(new Error(`CRI stream server refused the upgrade: ${head.toString('utf8').split('\r\n\r\n').slice(1).join('').trim() || head.toString('latin1').split('\r\n')[0]}`));
        return;
      }
      const session = new SpdySession({ client: true, write: (b) => sock.write(b), close: () => sock.end() });
      sock.on('data', (b: Buffer) => session.receive(b));
      sock.on('close', () => session.transportClosed());
      sock.on('error', () => session.transportClosed());
      const rest = head.subarray(end + 4);
      if (rest.length) session.receive(rest);
      resolve(session);
    };
    sock.on('data', onData);
  });
}

export interface StreamFlags { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }

const CH_STDIN = 0, CH_STDOUT = 1, CH_STDERR = 2, CH_ERROR = 3, CH_RESIZE = 4, CH_CLOSE = 255;

/** Bridges a client WebSocket (remotecommand channel framing) to the CRI URL until the command ends. */
export async function bridgeRemoteCommand(ws: WsConnection, criUrl: string, f: StreamFlags): Promise<void> {
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  const pending: Buffer[] = [];
  let stdin: SpdyStream | undefined;
  let resize: SpdyStream | undefined;
  let stdinClosedEarly = false;
  const onMessage = (m: Buffer) => {
    if (!stdin && !resize) { pending.push(m); return; }
    handle(m);
  };
  const handle = (m: Buffer) => {
    if (m.length === 0) return;
    const ch = m[0]!;
    const data = m.subarray(1);
    if (ch === CH_STDIN) stdin?.write(data);
    else if (ch === CH_RESIZE) resize?.write(data);
    else if (ch === CH_CLOSE && v5 && data[0] === CH_STDIN) { if (stdin) stdin.end(); else stdinClosedEarly = true; }
  };
  ws.onMessage(onMessage);

  let session: SpdySession;
  try {
    session = await connectCriSpdy(criUrl);
  } catch (err) {
    sendStatus(ws, { metadata: {}, status: 'Failure', message: String((err as Error).message), reason: 'InternalError', code: 500 });
    ws.close(1000);
    return;
  }
  const closed = new Promise<void>((resolve) => ws.onClose(() => resolve()));
  try {
    const errStream = await session.open({ streamtype: 'error' }, true);
    let errText = '';
    const errDone = new Promise<void>((resolve) => { errStream.on('data', (d: Buffer) => (errText += d.toString('utf8'))); errStream.once('end', () => resolve()); });
    if (f.stdin) stdin = await session.open({ streamtype: 'stdin' });
    const outs: Promise<void>[] = [];
    const pipeOut = (s: SpdyStream, ch: number) => {
      s.on('data', (d: Buffer) => { if (ws.isOpen) ws.send(Buffer.concat([Buffer.from([ch]), d])); });
      outs.push(new Promise((resolve) => s.once('end', () => resolve())));
    };
    if (f.stdout) pipeOut(await session.open({ streamtype: 'stdout' }, true), CH_STDOUT);
    if (f.stderr && !f.tty) pipeOut(await session.open({ streamtype: 'stderr' }, true), CH_STDERR);
    if (f.tty) resize = await session.open({ streamtype: 'resize' });
    resize ??= undefined;
    for (const m of pending.splice(0)) handle(m);
    if (stdinClosedEarly) stdin?.end();
    // The command ended when the error stream closes (the runtime writes the exit status there first).
    await Promise.race([errDone, closed]);
    await Promise.race([Promise.all(outs), new Promise((r) => setTimeout(r, 2000))]);
    if (ws.isOpen) {
      const status = errText.trim() ? parseStatus(errText) : { metadata: {}, status: 'Success' };
      sendStatus(ws, status);
      ws.close(1000);
    }
  } catch (err) {
    log.warn('remote command failed', { err: String(err) });
    if (ws.isOpen) { sendStatus(ws, { metadata: {}, status: 'Failure', message: String(err), reason: 'InternalError', code: 500 }); ws.close(1000); }
  } finally {
    session.close();
  }
}

function parseStatus(text: string): Record<string, unknown> {
  try {
    const s = JSON.parse(text) as Record<string, unknown>;
    return { metadata: {}, ...s };
  } catch {
    return { metadata: {}, status: 'Failure', message: text, reason: 'InternalError', code: 500 };
  }
}

function sendStatus(ws: WsConnection, s: Record<string, unknown>): void {
  if (!ws.isOpen) return;
  ws.send(Buffer.concat([Buffer.from([CH_ERROR]), Buffer.from(JSON.stringify(s))]));
}
