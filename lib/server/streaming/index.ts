// The API server's streaming subresources. pods/log is a hono subresource handler that streams the kubelet's
// /containerLogs reply. pods/exec, pods/attach and pods/portforward arrive as upgrades on the HTTPS listener: after
// security.checkUpgrade they are tunnelled byte for byte to the kubelet of the pod's node, which speaks the
// protocols (WebSocket v5.channel.k8s.io, SPDY/3.1 port-forward inside WebSocket, and kubectl's SPDY/3.1 fallback
// for exec/attach: a POST with Upgrade: SPDY/3.1) itself.
import type { IncomingMessage, Server } from 'node:http';
import { request } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Context, Hono } from 'hono';
import { ApiError, core, type Client, type KubeObject } from '../../client/types.ts';
import { logger } from '../../log/logger.ts';
import type { Env, SubresourceHandler } from '../api/app.ts';
import type { ResourceRequest } from '../api/request.ts';
import { kubeletError, kubeletFor, kubeletGet, kubeletRequestOptions, type KubeletCredentials } from './kubelet-client.ts';

const log = logger('server/streaming');

interface ContainerStatus { name: string; state?: { waiting?: { reason?: string }; running?: unknown; terminated?: unknown }; lastState?: { terminated?: unknown } }
interface PodLike extends KubeObject {
  spec?: { nodeName?: string; containers?: { name: string }[]; initContainers?: { name: string }[]; ephemeralContainers?: { name: string }[] };
  status?: { containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[]; ephemeralContainerStatuses?: ContainerStatus[] };
  metadata: KubeObject['metadata'] & { annotations?: Record<string, string> };
}

const bad = (message: string) => new ApiError({ status: 'Failure', code: 400, reason: 'BadRequest', message });

/** The container a log/exec request means, checked against the pod's spec and status as upstream does. */
export function pickContainer(pod: PodLike, requested: string | undefined, previous: boolean): string {
  const name = pod.metadata.name;
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
  let c = requested;
  if (!c) {
    const def = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
    if (def && all.includes(def)) c = def;
    else if ((pod.spec?.containers ?? []).length === 1) c = pod.spec!.containers![0]!.name;
    else throw bad(`a container name must be specified for pod ${name}, choose one of: [${(pod.spec?.containers ?? []).map((x) => x.name).join(' ')}]`);
  }
  if (!all.includes(c)) throw bad(`container ${c} is not valid for pod ${name}`);
  if (!pod.spec?.nodeName) throw bad(`pod ${name} does not have a host assigned`);
  const st = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])].find((s) => s.name === c);
  if (previous) {
    if (!st?.lastState?.terminated) throw bad(`previous terminated container "${c}" in pod "${name}" not found`);
  } else if (!st || (st.state?.waiting && !st.lastState?.terminated)) {
    throw bad(`container "${c}" in pod "${name}" is waiting to start: ${st?.state?.waiting?.reason ?? 'ContainerCreating'}`);
  }
  return c;
}

export interface StreamingOptions { client: Client; creds: KubeletCredentials }

const LOG_PARAMS = ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes'];

export function streamingSubresourceHandlers(o: StreamingOptions): Record<string, SubresourceHandler> {
  const log: SubresourceHandler = async (c: Context<Env>, r: ResourceRequest) => {
    if (c.req.method !== 'GET') throw new ApiError({ status: 'Failure', code: 405, reason: 'MethodNotAllowed', message: `the server does not allow this method on the requested resource` });
    const pod = await o.client.get<PodLike>(core('pods'), r.name!, r.namespace);
    const previous = ['true', '1'].includes(r.query.get('previous') ?? '');
    const container = pickContainer(pod, r.query.get('container') ?? undefined, previous);
    const target = await kubeletFor(o.client, pod.spec!.nodeName!);
    const q = new URLSearchParams();
    for (const k of LOG_PARAMS) { const v = r.query.get(k); if (v !== null) q.set(k, v); }
    const ac = new AbortController();
    c.req.raw.signal?.addEventListener('abort', () => ac.abort(), { once: true });
    const res = await kubeletGet(target, o.creds, `/containerLogs/${encodeURIComponent(r.namespace!)}/${encodeURIComponent(r.name!)}/${encodeURIComponent(container)}?${q}`, ac.signal);
    if (res.statusCode !== 200) throw await kubeletError(res);
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        res.on('data', (d: Buffer) => ctl.enqueue(new Uint8Array(d)));
        res.on('end', () => { try { ctl.close(); } catch { /* cancelled */ } });
        res.on('error', () => { try { ctl.close(); } catch { /* cancelled */ } });
      },
      cancel() { ac.abort(); res.destroy(); },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/plain' } });
  };
  return { 'pods/log': log };
}

const UPGRADE_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/;

function writeStatus(socket: Duplex, status: { code?: number; [k: string]: unknown }): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, ...status });
  socket.end(`HTTP/1.1 ${status.code ?? 500} Error\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/**
 * Handles exec/attach/portforward upgrades on the API's HTTPS listener. `check` is security.checkUpgrade.
 * Returns a function that detaches the listener.
 */
export function attachStreamingUpgrades(server: Pick<Server, 'on' | 'off'>, o: StreamingOptions & { check: (req: IncomingMessage) => Promise<{ user: unknown } | { status: { code?: number } }> }): () => void {
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'https://x');
      const m = UPGRADE_PATH.exec(url.pathname);
      if (!m) return writeStatus(socket, { status: 'Failure', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' });
      const auth = await o.check(req);
      if ('status' in auth) return writeStatus(socket, auth.status as { code?: number });
      const [ns, name, sub] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), m[3]!];
      let path: string;
      let target;
      try {
        const pod = await o.client.get<PodLike>(core('pods'), name, ns);
        if (!pod.spec?.nodeName) throw bad(`pod ${name} does not have a host assigned`);
        target = await kubeletFor(o.client, pod.spec.nodeName);
        if (sub === 'portforward') path = `/portForward/${encodeURIComponent(ns)}/${encodeURIComponent(name)}${url.search}`;
        else {
          const container = pickContainer(pod, url.searchParams.get('container') ?? undefined, false);
          path = `/${sub}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}${url.search}`;
        }
      } catch (err) {
        if (err instanceof ApiError) return writeStatus(socket, err.status as unknown as { code?: number });
        throw err;
      }
      const headers: Record<string, string | string[]> = {};
      for (const h of ['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions']) {
        const v = req.headers[h];
        if (v !== undefined) headers[h] = Array.isArray(v) ? v.join(', ') : v;
      }
      // SPDY offers its protocol versions as repeated header lines (kubectl sends four): keep them apart.
      const versions = req.headersDistinct['x-stream-protocol-version'];
      if (versions) headers['x-stream-protocol-version'] = versions;
      const up = request(kubeletRequestOptions(target, o.creds, path, { method: req.method, headers }));
      up.on('upgrade', (res: IncomingMessage, upSock: Duplex, upHead: Buffer) => {
        let out = `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? 'Switching Protocols'}\r\n`;
        for (let i = 0; i < res.rawHeaders.length; i += 2) out += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
        socket.write(out + '\r\n');
        if (upHead.length) socket.write(upHead);
        if (head.length) upSock.write(head);
        upSock.pipe(socket);
        socket.pipe(upSock);
        const done = () => { upSock.destroy(); socket.destroy(); };
        upSock.on('error', done);
        socket.on('error', done);
        upSock.on('close', () => socket.end());
        socket.on('close', () => upSock.end());
      });
      up.on('response', (res: IncomingMessage) => {
        void (async () => {
          const e = await kubeletError(res);
          writeStatus(socket, e.status as unknown as { code?: number });
        })();
      });
      up.on('error', (err) => writeStatus(socket, { status: 'Failure', code: 500, reason: 'InternalError', message: `error dialing the kubelet of node ${target.nodeName}: ${err.message}` }));
      up.end();
    })().catch((err) => { log.warn('streaming upgrade failed', { err: String(err) }); socket.destroy(); });
  };
  server.on('upgrade', onUpgrade);
  return () => { server.off('upgrade', onUpgrade); };
}

/**
 * nodes/{name}/proxy/{path}: GET passed to the node's kubelet (e.g. /stats/summary, /healthz). Mounted as a route
 * because the generic resource path takes no segments after the subresource; authorization already ran
 * (get on nodes/proxy).
 */
export function nodeProxyRoutes(o: StreamingOptions): (app: Hono<Env>) => void {
  return (app) => {
    const handler = async (c: Context<Env>) => {
      const url = new URL(c.req.url);
      const m = /^\/api\/v1\/nodes\/([^/]+)\/proxy(\/.*)?$/.exec(url.pathname);
      if (!m) throw new ApiError({ status: 'Failure', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' });
      const target = await kubeletFor(o.client, decodeURIComponent(m[1]!));
      const res = await kubeletGet(target, o.creds, `${m[2] ?? '/'}${url.search}`);
      const body = new ReadableStream<Uint8Array>({
        start(ctl) {
          res.on('data', (d: Buffer) => ctl.enqueue(new Uint8Array(d)));
          res.on('end', () => { try { ctl.close(); } catch { /* cancelled */ } });
          res.on('error', () => { try { ctl.close(); } catch { /* cancelled */ } });
        },
        cancel() { res.destroy(); },
      });
      return new Response(body, { status: res.statusCode ?? 502, headers: { 'content-type': String(res.headers['content-type'] ?? 'text/plain') } });
    };
    app.get('/api/v1/nodes/:name/proxy', handler);
    app.get('/api/v1/nodes/:name/proxy/*', handler);
  };
}
