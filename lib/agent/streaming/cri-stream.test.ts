import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bridgeRemoteCommand } from './cri-stream.ts';
import { SpdySession, type SpdyStream } from './spdy-session.ts';
import { connectWebSocket, createUpgrader } from './websocket.ts';

// A stand-in for containerd's CRI stream server: SPDY/3.1 upgrade with v4.channel.k8s.io; the "command" copies
// stdin to stdout and exits 3 when stdin ends.
async function fakeCriStreamServer(t: { teardown(fn: () => void): void }): Promise<string> {
  const srv = createServer((_req, res) => { res.writeHead(400); res.end(); });
  srv.on('upgrade', (req, socket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${req.headers['x-stream-protocol-version']}\r\n\r\n`);
    const session = new SpdySession({ client: false, write: (b) => socket.write(b), close: () => socket.end() });
    socket.on('data', (d: Buffer) => session.receive(d));
    socket.on('close', () => session.transportClosed());
    const streams = new Map<string, SpdyStream>();
    session.on('stream', (s: SpdyStream) => {
      streams.set(s.headers.streamtype!, s);
      if (streams.has('stdin') && streams.has('stdout') && streams.has('error')) {
        const stdin = streams.get('stdin')!, stdout = streams.get('stdout')!, error = streams.get('error')!;
        stdin.on('data', (d: Buffer) => stdout.write(d));
        stdin.on('end', () => {
          stdout.end();
          error.end(Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } })));
        });
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => { srv.closeAllConnections(); srv.close(); });
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}/exec/token`;
}

t.test('v5 WebSocket client ↔ SPDY v4 runtime: stdin close (channel 255) ends stdin, status arrives on channel 3', async (t) => {
  const criUrl = await fakeCriStreamServer(t);
  const wss = createUpgrader({ selectProtocol: (p) => (p.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false) });
  const srv = createServer((_req, res) => { res.writeHead(400); res.end(); });
  srv.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => { void bridgeRemoteCommand(ws, criUrl, { stdin: true, stdout: true, stderr: false, tty: false }); }));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => { wss.terminateAll(); srv.closeAllConnections(); srv.close(); });
  const ws = await connectWebSocket(`ws://127.0.0.1:${(srv.address() as AddressInfo).port}/`, ['v5.channel.k8s.io']);
  const got: Buffer[] = [];
  const closed = new Promise<void>((resolve) => ws.onClose(() => resolve()));
  ws.onMessage((d) => got.push(d));
  t.equal(ws.protocol, 'v5.channel.k8s.io');
  ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello ')]));
  ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('world')]));
  ws.send(Buffer.from([255, 0]));
  await closed;
  const stdout = Buffer.concat(got.filter((m) => m[0] === 1).map((m) => m.subarray(1))).toString();
  t.equal(stdout, 'hello world');
  const status = got.filter((m) => m[0] === 3).map((m) => JSON.parse(m.subarray(1).toString()));
  t.equal(status.length, 1);
  t.equal(status[0].reason, 'NonZeroExitCode');
  t.same(status[0].details.causes, [{ reason: 'ExitCode', message: '3' }]);
});
