// One small HTTPS client over node:https with explicit trust (CA PEM) and optional client certificate.
import { request } from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

export interface HttpsRequestOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Trust exactly this CA; when absent and insecure is false, the system roots. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Skip server verification (only for fetching /cacerts, whose hash the caller then pins). */
  insecure?: boolean;
  timeoutMs?: number;
}

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

export function httpsRequest(o: HttpsRequestOptions): Promise<HttpsResponse> {
  const u = new URL(o.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        method: o.method ?? 'GET',
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port || 443,
        path: u.pathname + u.search,
        headers: { ...(o.headers ?? {}), ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}) },
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        rejectUnauthorized: !o.insecure,
        servername: /^[\d.]+$|:/.test(u.hostname) ? undefined : u.hostname,
        checkServerIdentity: (host: string, cert: PeerCertificate) => checkServerIdentity(host.replace(/^\[|\]$/g, ''), cert),
        timeout: o.timeoutMs ?? 30_000,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: () => body.toString('utf8'), json: () => JSON.parse(body.toString('utf8')) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${u.origin} timed out`)));
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}
