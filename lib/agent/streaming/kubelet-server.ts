// The kubelet's HTTPS API (port 10250): container logs, exec/attach/port-forward upgrades, /stats/summary,
// /metrics/resource, /pods (the pods bound to this node) and /healthz. Only the API server may call it: a client certificate from the cluster client CA
// with the API server's identity (CN system:kube-apiserver or group system:masters).
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { WsConnection, WsUpgrader } from './websocket.ts';
import { logger } from '../../log/logger.ts';
import type { CriRuntime } from '../cri/types.ts';
import { KubeletError, type Kubelet } from '../kubelet/kubelet.ts';
import { resourceMetrics, summary } from './stats.ts';

const log = logger('kubelet/server');

export const KUBELET_PORT = 10250;
export const REMOTECOMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export interface KubeletServerOptions {
  kubelet: Kubelet;
  cri: CriRuntime;
  dataDir: string;
  nodeName?: string;
  /** Default 10250; 0 for any free port (tests). */
  port?: number;
  host?: string;
  signal: AbortSignal;
  /** PEMs instead of <data-dir>/agent/{serving-kubelet.crt,key,client-ca.crt} (tests). */
  tls?: { cert: string; key: string; clientCa: string };
}

export interface KubeletServer { port: number; server: Server; close(): Promise<void> }

function allowed(sock: TLSSocket): boolean {
  if (!sock.authorized) return false;
  const s = sock.getPeerCertificate()?.subject;
  if (!s) return false;
  const o = s.O === undefined ? [] : Array.isArray(s.O) ? s.O : [s.O];
  return s.CN === 'system:kube-apiserver' && o.includes('system:masters');
}

function statusBody(code: number, message: string): string {
  const reason = code === 404 ? 'NotFound' : code === 400 ? 'BadRequest' : code === 403 ? 'Forbidden' : code === 401 ? 'Unauthorized' : 'InternalError';
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

function errorCode(err: unknown): [number, string] {
  if (err instanceof KubeletError) return [err.code, err.message];
  return [500, String((err as Error)?.message ?? err)];
}

const bool = (q: URLSearchParams, k: string) => ['true', '1', ''].includes(q.get(k) ?? 'false') && q.has(k);
const int = (q: URLSearchParams, k: string) => (q.has(k) ? Number(q.get(k)) : undefined);

export async function startKubeletServer(o: KubeletServerOptions): Promise<KubeletServer> {
  const dir = join(o.dataDir, 'agent');
  const tls = o.tls ?? {
    cert: readFileSync(join(dir, 'serving-kubelet.crt'), 'utf8'),
    key: readFileSync(join(dir, 'serving-kubelet.key'), 'utf8'),
    clientCa: readFileSync(join(dir, 'client-ca.crt'), 'utf8'),
  };
  const nodeName = o.nodeName ?? '';
  const server = createServer({ cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    void handle(req, res).catch((err) => {
      const [code, msg] = errorCode(err);
      if (!res.headersSent) { res.writeHead(code, { 'content-type': 'application/json' }); res.end(statusBody(code, msg)); } else res.destroy();
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!allowed(req.socket as TLSSocket)) { res.writeHead(403, { 'content-type': 'application/json' }); res.end(statusBody(403, 'forbidden: only the API server may call the kubelet')); return; }
    const url = new URL(req.url ?? '/', 'https://x');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const q = url.searchParams;
    if (parts[0] === 'healthz') { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); return; }
    if (parts[0] === 'pods' && parts.length === 1) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: o.kubelet.informer.cache.list() }));
      return;
    }
    if (parts[0] === 'stats' && parts[1] === 'summary') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(await summary(o.cri, nodeName)));
      return;
    }
    if (parts[0] === 'metrics' && parts[1] === 'resource' && parts.length === 2) {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(resourceMetrics(await summary(o.cri, nodeName)));
      return;
    }
    if (parts[0] === 'containerLogs' && parts.length === 4) {
      const ac = new AbortController();
      res.on('close', () => ac.abort());
      const chunks = await o.kubelet.logs(parts[1]!, parts[2]!, {
        container: parts[3], follow: bool(q, 'follow'), previous: bool(q, 'previous'), timestamps: bool(q, 'timestamps'),
        tailLines: int(q, 'tailLines'), limitBytes: int(q, 'limitBytes'), signal: ac.signal,
        sinceMs: q.has('sinceSeconds') ? Date.now() - Number(q.get('sinceSeconds')) * 1000 : q.has('sinceTime') ? Date.parse(q.get('sinceTime')!) : undefined,
      });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.flushHeaders();
      for await (const c of chunks) {
        if (ac.signal.aborted) break;
        res.write(c);
      }
      res.end();
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(statusBody(404, `the server could not find the requested resource ${url.pathname}`));
  };

  // The streaming code (ws through websocket.ts, SPDY framing, the CRI bridge) loads on the first
  // exec/attach/port-forward: an idle node never needs it.
  let streaming: Promise<Streaming> | undefined;
  const loadStreaming = () => (streaming ??= loadStreamingModules());

  const refuse = (socket: Duplex, code: number, msg: string) => {
    const body = statusBody(code, msg);
    socket.end(`HTTP/1.1 ${code} Error\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void (async () => {
      if (!allowed(req.socket as TLSSocket)) return refuse(socket, 403, 'forbidden: only the API server may call the kubelet');
      const url = new URL(req.url ?? '/', 'https://x');
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      const q = url.searchParams;
      const kind = parts[0];
      try {
        if ((kind === 'exec' || kind === 'attach') && parts.length >= 3) {
          const [ns, pod, container] = [parts[1]!, parts[2]!, parts[3] ?? q.get('container') ?? undefined];
          const flags = { stdin: bool(q, 'stdin') || q.get('input') === '1', stdout: bool(q, 'stdout') || q.get('output') === '1', stderr: bool(q, 'stderr') || q.get('error') === '1', tty: bool(q, 'tty') };
          const command = q.getAll('command');
          const criUrl = kind === 'exec'
            ? await o.kubelet.exec(ns, pod, { container, command, ...flags })
            : await o.kubelet.attach(ns, pod, { container, ...flags });
          const m = await loadStreaming();
          if (m.isSpdyUpgrade(req)) m.proxySpdyUpgrade(req, socket, head, criUrl);
          else m.wss.handleUpgrade(req, socket, head, (ws: WsConnection) => { void m.bridgeRemoteCommand(ws, criUrl, flags); });
          return;
        }
        if (kind === 'portForward' && parts.length >= 3) {
          const pod = o.kubelet.pod(parts[1]!, parts[2]!);
          let ip = pod?.status?.podIP;
          if (!ip && pod) {
            const st = o.kubelet.runtimeState(pod.metadata.uid!);
            const sb = st?.sandboxes.find((s) => s.state === 'SANDBOX_READY');
            if (sb) ip = (await o.cri.podSandboxStatus(sb.id))?.network?.ip;
          }
          if (!pod || !ip) return refuse(socket, 404, `pod ${parts[1]}/${parts[2]} has no running sandbox on node ${nodeName}`);
          delete req.headers['sec-websocket-protocol'];
          const m = await loadStreaming();
          m.pfWss.handleUpgrade(req, socket, head, (ws: WsConnection) => { m.servePortForward(ws, ip!); });
          return;
        }
        refuse(socket, 404, `the server could not find the requested resource ${url.pathname}`);
      } catch (err) {
        const [code, msg] = errorCode(err);
        refuse(socket, code, msg);
      }
    })().catch((err) => { log.warn('upgrade failed', { err: String(err) }); socket.destroy(); });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? KUBELET_PORT, o.host ?? '0.0.0.0', () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  log.info('kubelet server listening', { port });
  const close = () => new Promise<void>((resolve) => {
    void streaming?.then((m) => { m.wss.terminateAll(); m.pfWss.terminateAll(); });
    server.close(() => resolve());
    server.closeAllConnections();
  });
  o.signal.addEventListener('abort', () => void close(), { once: true });
  return { port, server, close };
}

interface Streaming {
  wss: WsUpgrader;
  pfWss: WsUpgrader;
  bridgeRemoteCommand: typeof import('./cri-stream.ts').bridgeRemoteCommand;
  servePortForward: typeof import('./portforward.ts').servePortForward;
  isSpdyUpgrade: typeof import('./spdy-proxy.ts').isSpdyUpgrade;
  proxySpdyUpgrade: typeof import('./spdy-proxy.ts').proxySpdyUpgrade;
}

async function loadStreamingModules(): Promise<Streaming> {
  const [{ createUpgrader }, { bridgeRemoteCommand }, { PORTFORWARD_PROTOCOL, servePortForward }, { isSpdyUpgrade, proxySpdyUpgrade }] = await Promise.all([
    import('./websocket.ts'), import('./cri-stream.ts'), import('./portforward.ts'), import('./spdy-proxy.ts'),
  ]);
  const wss = createUpgrader({ selectProtocol: (protocols) => REMOTECOMMAND_PROTOCOLS.find((p) => protocols.has(p)) ?? false });
  const pfWss = createUpgrader({ announceProtocol: PORTFORWARD_PROTOCOL });
  return { wss, pfWss, bridgeRemoteCommand, servePortForward, isSpdyUpgrade, proxySpdyUpgrade };
}
