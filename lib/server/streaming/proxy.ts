// pods/{name}/proxy and services/{name}/proxy: the API server forwards the request to a pod IP, as upstream's
// ResourceLocation + proxy handler do (what `kubectl proxy` users and cluster-info's links reach). The name may carry a
// scheme and a port: "name", "name:port", "scheme:name:port" (a port name or number). Pod and service lookups and the
// endpoint choice are pure functions; the handler streams the request and the reply.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { Context, Hono } from 'hono';
import { ApiError, core, type Client, type KubeObject } from '../../client/types.ts';
import type { Env } from '../api/app.ts';

export interface ProxyTarget { scheme: 'http' | 'https'; host: string; port: number }

interface Id { scheme: 'http' | 'https'; name: string; port: string }

const badRequest = (message: string) => new ApiError({ status: 'Failure', code: 400, reason: 'BadRequest', message });
const unavailable = (message: string) => new ApiError({ status: 'Failure', code: 503, reason: 'ServiceUnavailable', message });

/** utilnet.SplitSchemeNamePort: "name", "name:port" or "scheme:name:port" (scheme http, https or empty). */
export function splitSchemeNamePort(id: string): Id | undefined {
  const parts = id.split(':');
  let scheme = '', name: string, port = '';
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) [name, port] = parts as [string, string];
  else if (parts.length === 3) [scheme, name, port] = parts as [string, string, string];
  else return undefined;
  if (!name) return undefined;
  if (scheme !== '' && scheme !== 'http' && scheme !== 'https') return undefined;
  return { scheme: (scheme || 'http') as 'http' | 'https', name, port };
}

interface PodLike extends KubeObject {
  spec?: { containers?: { ports?: { containerPort: number }[] }[] };
  status?: { podIP?: string };
}

/** Where pods/{id}/proxy goes: the pod IP and the given port, else the first declared container port, else 80. */
export function podProxyTarget(pod: PodLike, id: Id): ProxyTarget {
  let port = id.port;
  if (!port) port = String(pod.spec?.containers?.find((c) => c.ports?.length)?.ports![0]!.containerPort ?? '');
  const ip = pod.status?.podIP;
  if (!ip) throw badRequest(`address not allowed`);
  const n = port ? Number(port) : id.scheme === 'https' ? 443 : 80;
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw badRequest(`invalid pod request "${id.name}:${port}"`);
  return { scheme: id.scheme, host: ip, port: n };
}

interface ServiceLike extends KubeObject { spec?: { ports?: { name?: string; port: number }[] } }
interface EndpointsLike extends KubeObject {
  subsets?: { addresses?: { ip: string }[]; ports?: { name?: string; port: number }[] }[];
}

/**
 * Where services/{id}/proxy goes, as upstream's service ResourceLocation: a port number becomes the service port's
 * name, then a random ready address of an Endpoints subset with a port of that name. `random(n)` picks in [0, n).
 */
export function serviceProxyTarget(svc: ServiceLike, eps: EndpointsLike | undefined, id: Id, random: (n: number) => number = (n) => Math.floor(Math.random() * n)): ProxyTarget {
  let portName = id.port;
  if (/^\d+$/.test(portName)) {
    const p = svc.spec?.ports?.find((x) => x.port === Number(portName));
    if (!p) throw unavailable(`no service port ${portName} found for service "${id.name}"`);
    portName = p.name ?? '';
  }
  const subsets = eps?.subsets ?? [];
  if (!subsets.length) throw unavailable(`no endpoints available for service "${id.name}"`);
  const seed = random(subsets.length);
  for (let i = 0; i < subsets.length; i++) {
    const ss = subsets[(seed + i) % subsets.length]!;
    const addrs = ss.addresses ?? [];
    if (!addrs.length) continue;
    const port = (ss.ports ?? []).find((p) => (p.name ?? '') === portName);
    if (port) return { scheme: id.scheme, host: addrs[random(addrs.length)]!.ip, port: port.port };
  }
  throw unavailable(`no endpoints available for service "${id.name}"`);
}

// Hop-by-hop headers and the caller's credentials stay here.
const DROP = new Set(['authorization', 'connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'impersonate-user', 'impersonate-group', 'impersonate-uid']);

function forward(c: Context<Env>, target: ProxyTarget, path: string): Promise<Response> {
  const headers: Record<string, string> = {};
  c.req.raw.headers.forEach((v, k) => { if (!DROP.has(k) && !k.startsWith('impersonate-extra-')) headers[k] = v; });
  const request = target.scheme === 'https' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const ac = new AbortController();
    c.req.raw.signal?.addEventListener('abort', () => ac.abort(), { once: true });
    const up = request({
      host: target.host, port: target.port, path, method: c.req.method, headers, signal: ac.signal, agent: false,
      // Upstream's proxy does not verify pod serving certificates either (InsecureSkipVerify for pods and services).
      ...(target.scheme === 'https' ? { rejectUnauthorized: false } : {}),
    }, (res: IncomingMessage) => {
      const out = new Headers();
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        const k = res.rawHeaders[i]!.toLowerCase();
        if (!DROP.has(k)) out.append(k, res.rawHeaders[i + 1]!);
      }
      const noBody = c.req.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
      resolve(new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status: res.statusCode ?? 502, headers: out }));
    });
    up.setTimeout(30_000, () => up.destroy(new Error(`dial tcp ${target.host}:${target.port}: i/o timeout`)));
    up.on('error', (err) => {
      const e = unavailable(`error trying to reach service: ${err.message}`);
      resolve(new Response(JSON.stringify(e.status), { status: 503, headers: { 'content-type': 'application/json' } }));
    });
    const body = c.req.raw.body;
    if (body && c.req.method !== 'GET' && c.req.method !== 'HEAD') Readable.fromWeb(body as never).pipe(up);
    else up.end();
  });
}

const PATH = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|services)\/([^/]+)\/proxy(\/.*)?$/;

/** Routes for pods/proxy and services/proxy (authorization already ran: verb on pods/proxy or services/proxy). */
export function podServiceProxyRoutes(o: { client?: Client }): (app: Hono<Env>) => void {
  return (app) => {
    const handler = async (c: Context<Env>) => {
      const url = new URL(c.req.url);
      const m = PATH.exec(url.pathname)!;
      const [ns, kind, rawId, rest] = [decodeURIComponent(m[1]!), m[2]!, decodeURIComponent(m[3]!), m[4] ?? '/'];
      const id = splitSchemeNamePort(rawId);
      if (!id) throw badRequest(`invalid ${kind === 'pods' ? 'pod' : 'service'} request "${rawId}"`);
      const client = o.client!;
      let target: ProxyTarget;
      if (kind === 'pods') target = podProxyTarget(await client.get<PodLike>(core('pods'), id.name, ns), id);
      else {
        const svc = await client.get<ServiceLike>(core('services'), id.name, ns);
        const eps = await client.get<EndpointsLike>(core('endpoints'), id.name, ns).catch(() => undefined);
        target = serviceProxyTarget(svc, eps, id);
      }
      return forward(c, target, `${rest}${url.search}`);
    };
    for (const kind of ['pods', 'services']) {
      app.all(`/api/v1/namespaces/:ns/${kind}/:name/proxy`, handler);
      app.all(`/api/v1/namespaces/:ns/${kind}/:name/proxy/*`, handler);
    }
  };
}
