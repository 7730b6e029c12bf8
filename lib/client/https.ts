// The Client over HTTPS (agents, CLI, tests): node:https with a keep-alive agent, explicit trust (CA PEM) and a
// client certificate or bearer token; watches stream newline-delimited JSON events.
import { Agent, request, type RequestOptions } from 'node:https';
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  ApiError, type Client, type ClientWatch, type ClientWatchEvent, type DeleteOptions, type KubeList, type KubeObject,
  type ListQuery, type PatchType, type ResourceRef, type WatchQuery,
} from './types.ts';

export interface HttpsClientOptions {
  /** https://host:port (or http://127.0.0.1:port for loopback development servers). */
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  userAgent?: string;
  timeoutMs?: number;
}

const patchTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** Reads server, CA and credentials of the current context of a kubeconfig file. */
export function optionsFromKubeconfig(path: string): HttpsClientOptions {
  const kc = parseYaml(readFileSync(path, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const ctxName = kc['current-context'];
  const ctx = (kc.contexts ?? []).find((c: { name: string }) => c.name === ctxName)?.context ?? kc.contexts?.[0]?.context;
  const cluster = (kc.clusters ?? []).find((c: { name: string }) => c.name === ctx?.cluster)?.cluster ?? kc.clusters?.[0]?.cluster;
  const user = (kc.users ?? []).find((u: { name: string }) => u.name === ctx?.user)?.user ?? kc.users?.[0]?.user ?? {};
  const b64 = (v?: string) => (v ? Buffer.from(v, 'base64').toString('utf8') : undefined);
  const file = (v?: string) => (v ? readFileSync(v, 'utf8') : undefined);
  return {
    server: cluster.server,
    ca: b64(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']),
    cert: b64(user['client-certificate-data']) ?? file(user['client-certificate']),
    key: b64(user['client-key-data']) ?? file(user['client-key']),
    token: user.token,
  };
}

export function resourcePath(ref: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  let p = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  if (namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${ref.resource}`;
  if (name) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

function query(q: Record<string, string | number | boolean | undefined>): string {
  const parts = Object.entries(q).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** The whole body as text (events, not an async iterator: one promise per response, not per chunk). */
function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => { ended = true; resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')); });
    res.on('error', reject);
    res.on('close', () => { if (!ended) reject(new Error('the connection closed before the response ended')); });
  });
}

export class HttpsClient implements Client {
  readonly #o: HttpsClientOptions;
  readonly #url: URL;
  readonly #agent: Agent | HttpAgent;

  constructor(o: HttpsClientOptions) {
    this.#o = o;
    this.#url = new URL(o.server);
    this.#agent = this.#url.protocol === 'http:'
      ? new HttpAgent({ keepAlive: true, maxSockets: 16 })
      : new Agent({ keepAlive: true, maxSockets: 16, ca: o.ca, cert: o.cert, key: o.key });
  }

  #send(method: string, path: string, body?: unknown, contentType = 'application/json', stream = false): Promise<IncomingMessage> {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.#o.userAgent ?? 'tsk' };
    if (data) Object.assign(headers, { 'content-type': contentType, 'content-length': String(data.length) });
    if (this.#o.token) headers.authorization = `Bearer ${this.#o.token}`;
    const opts: RequestOptions = {
      method, host: this.#url.hostname.replace(/^\[|\]$/g, ''), port: this.#url.port || (this.#url.protocol === 'http:' ? 80 : 443),
      path, headers, agent: this.#agent as Agent,
    };
    const send = this.#url.protocol === 'http:' ? httpRequest : request;
    const attempt = (retry: boolean): Promise<IncomingMessage> => new Promise((resolve, reject) => {
      const req = send(opts, resolve);
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed while we were busy: the request never reached it (Node's advice).
        if (retry && req.reusedSocket && err.code === 'ECONNRESET') resolve(attempt(false));
        else reject(err);
      });
      if (!stream) req.setTimeout(this.#o.timeoutMs ?? 60_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.end(data);
    });
    return attempt(true);
  }

  async #json<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.#send(method, path, body, contentType);
    const text = await readText(res);
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { message: text };
    }
    if ((res.statusCode ?? 500) >= 400) {
      const s = parsed as { message?: string; reason?: string };
      throw new ApiError({ ...(parsed as object), code: res.statusCode, reason: s.reason ?? 'Unknown', message: s.message ?? text });
    }
    return parsed as T;
  }

  get<T extends KubeObject>(ref: ResourceRef, name: string, namespace?: string): Promise<T> {
    return this.#json('GET', resourcePath(ref, namespace, name));
  }

  list<T extends KubeObject>(ref: ResourceRef, q: ListQuery = {}): Promise<KubeList<T>> {
    return this.#json('GET', resourcePath(ref, q.namespace) + query({ labelSelector: q.labelSelector, fieldSelector: q.fieldSelector, limit: q.limit, continue: q.continue, resourceVersion: q.resourceVersion }));
  }

  async watch<T extends KubeObject>(ref: ResourceRef, q: WatchQuery = {}): Promise<ClientWatch<T>> {
    const path = resourcePath(ref, q.namespace) + query({
      watch: true, labelSelector: q.labelSelector, fieldSelector: q.fieldSelector, resourceVersion: q.resourceVersion,
      allowWatchBookmarks: q.allowWatchBookmarks, timeoutSeconds: q.timeoutSeconds,
    });
    const res = await this.#send('GET', path, undefined, undefined, true);
    if ((res.statusCode ?? 500) >= 400) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const s = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      throw new ApiError({ ...s, code: res.statusCode });
    }
    const close = () => res.destroy();
    return {
      close,
      async *[Symbol.asyncIterator]() {
        let buf = '';
        try {
          for await (const chunk of res) {
            buf += (chunk as Buffer).toString('utf8');
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line) yield JSON.parse(line) as ClientWatchEvent<T>;
            }
          }
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE' && (err as Error).name !== 'AbortError' && !res.destroyed) throw err;
        } finally {
          close();
        }
      },
    };
  }

  create<T extends KubeObject>(ref: ResourceRef, obj: T, namespace?: string): Promise<T> {
    return this.#json('POST', resourcePath(ref, namespace ?? obj.metadata.namespace), obj);
  }

  update<T extends KubeObject>(ref: ResourceRef, obj: T, subresource?: string): Promise<T> {
    return this.#json('PUT', resourcePath(ref, obj.metadata.namespace, obj.metadata.name, subresource), obj);
  }

  patch<T extends KubeObject>(ref: ResourceRef, name: string, type: PatchType, patch: unknown, opts: { namespace?: string; subresource?: string; fieldManager?: string } = {}): Promise<T> {
    const q = query({ fieldManager: opts.fieldManager ?? (type === 'apply' ? 'tsk' : undefined) });
    return this.#json('PATCH', resourcePath(ref, opts.namespace, name, opts.subresource) + q, typeof patch === 'string' ? patch : JSON.stringify(patch), patchTypes[type]);
  }

  async delete(ref: ResourceRef, name: string, namespace?: string, opts?: DeleteOptions): Promise<void> {
    await this.#json('DELETE', resourcePath(ref, namespace, name), opts ? { apiVersion: 'v1', kind: 'DeleteOptions', ...opts } : undefined);
  }

  createSubresource<T extends KubeObject>(ref: ResourceRef, name: string, subresource: string, body: KubeObject, namespace?: string): Promise<T> {
    return this.#json('POST', resourcePath(ref, namespace, name, subresource), body);
  }

  /** GET of any path (e.g. /version, /readyz) as text. */
  async raw(path: string): Promise<{ status: number; body: string }> {
    const res = await this.#send('GET', path);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') };
  }

  close(): void {
    this.#agent.destroy();
  }
}
