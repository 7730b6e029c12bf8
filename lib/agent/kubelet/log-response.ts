// pods/log as a web-standard Response, for the API server's "pods/log" subresource handler (local kubelet) or a
// kubelet HTTP endpoint: query parameters as kubectl sends them, text/plain body, streamed when following.
import { KubeletError, type Kubelet } from './kubelet.ts';

function status(code: number, message: string): Response {
  const reason = code === 404 ? 'NotFound' : code === 400 ? 'BadRequest' : 'InternalError';
  return new Response(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }), { status: code, headers: { 'content-type': 'application/json' } });
}

const int = (q: URLSearchParams, k: string): number | undefined => {
  const v = q.get(k);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new KubeletError(400, `invalid ${k}: ${v}`);
  return n;
};
const bool = (q: URLSearchParams, k: string) => q.get(k) === 'true' || q.get(k) === '1';

export async function podLogResponse(kubelet: Pick<Kubelet, 'logs'>, namespace: string, name: string, query: URLSearchParams, signal?: AbortSignal): Promise<Response> {
  try {
    const sinceSeconds = int(query, 'sinceSeconds');
    const sinceTime = query.get('sinceTime');
    const sinceMs = sinceSeconds !== undefined ? Date.now() - sinceSeconds * 1000 : sinceTime ? Date.parse(sinceTime) : undefined;
    const follow = bool(query, 'follow');
    const chunks = await kubelet.logs(namespace, name, {
      container: query.get('container') ?? undefined, previous: bool(query, 'previous'), follow, timestamps: bool(query, 'timestamps'),
      tailLines: int(query, 'tailLines'), limitBytes: int(query, 'limitBytes'), sinceMs, signal,
    });
    const headers = { 'content-type': 'text/plain', 'cache-control': 'no-cache' };
    if (!follow) {
      let text = '';
      for await (const c of chunks) text += c;
      return new Response(text, { status: 200, headers });
    }
    const it = chunks[Symbol.asyncIterator]();
    const enc = new TextEncoder();
    return new Response(new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        const { value, done } = await it.next();
        if (done) ctrl.close();
        else ctrl.enqueue(enc.encode(value));
      },
      async cancel() { await it.return?.(undefined); },
    }), { status: 200, headers });
  } catch (e) {
    if (e instanceof KubeletError) return status(e.code, e.message);
    const msg = e instanceof Error ? e.message : String(e);
    return status(/ENOENT/.test(msg) ? 404 : 500, msg);
  }
}
