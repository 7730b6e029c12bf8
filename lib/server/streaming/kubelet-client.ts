// How the API server reaches a node's kubelet: the Node's InternalIP and status.daemonEndpoints.kubeletEndpoint.Port,
// over TLS verified against the server CA, with the API server's own client certificate (client-kube-apiserver).
import { request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { ApiError, core, type Client, type KubeObject } from '../../client/types.ts';

export interface KubeletCredentials { caPem: string; certPem: string; keyPem: string }

export interface KubeletTarget { host: string; port: number; nodeName: string }

interface NodeLike extends KubeObject { status?: { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } } }

export async function kubeletFor(client: Client, nodeName: string): Promise<KubeletTarget> {
  const node = await client.get<NodeLike>(core('nodes'), nodeName);
  const addrs = node.status?.addresses ?? [];
  const host = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs.find((a) => a.type === 'Hostname')?.address;
  if (!host) throw new ApiError({ code: 500, reason: 'InternalError', message: `node ${nodeName} has no address` });
  return { host, port: node.status?.daemonEndpoints?.kubeletEndpoint?.Port || 10250, nodeName };
}

export function kubeletRequestOptions(t: KubeletTarget, creds: KubeletCredentials, path: string, extra: RequestOptions = {}): RequestOptions {
  return {
    host: t.host, port: t.port, path, ca: creds.caPem, cert: creds.certPem, key: creds.keyPem,
    // The serving certificate names the node; we dial its IP, which the certificate also carries.
    servername: undefined, agent: false, ...extra,
  };
}

/** GET on the kubelet; resolves with the response (any status) once headers arrive. */
export function kubeletGet(t: KubeletTarget, creds: KubeletCredentials, path: string, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(kubeletRequestOptions(t, creds, path, { method: 'GET', signal }), resolve);
    req.on('error', reject);
    req.end();
  });
}

export async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A kubelet error reply as an ApiError (its body is a Status, or plain text). */
export async function kubeletError(res: IncomingMessage): Promise<ApiError> {
  const text = await readBody(res);
  try {
    const s = JSON.parse(text) as { code?: number; reason?: string; message?: string };
    return new ApiError({ status: 'Failure', code: res.statusCode, reason: s.reason, message: s.message ?? text });
  } catch {
    return new ApiError({ status: 'Failure', code: res.statusCode, reason: res.statusCode === 404 ? 'NotFound' : 'BadRequest', message: text });
  }
}
