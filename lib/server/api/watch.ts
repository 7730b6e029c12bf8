// WATCH over HTTP: newline-delimited JSON events, objects as Tables for `kubectl get -w`. Ends on client
// disconnect, timeoutSeconds or when the store ends the watch (the client relists).
import type { Context } from 'hono';
import type { ClientWatchEvent, KubeObject } from '../../client/types.ts';
import { watch } from '../registry/watch.ts';
import { includeObjectParam, negotiate, partialMetadata, tableOf, TABLE_CONTENT_TYPE } from './negotiate.ts';
import { listOptions } from './list.ts';
import { boolParam, intParam, type ResourceRequest } from './request.ts';

const enc = new TextEncoder();

export async function watchHandler(c: Context, r: ResourceRequest): Promise<Response> {
  const shape = negotiate(c);
  const q = r.query;
  const opts = { ...listOptions(r), limit: undefined, continue: undefined };
  if (r.name) opts.fieldSelector = [opts.fieldSelector, `metadata.name=${r.name}`].filter(Boolean).join(',');
  const w = await watch(r.registry, r.strategy, {
    ...opts,
    allowWatchBookmarks: boolParam(q, 'allowWatchBookmarks'),
    timeoutSeconds: intParam(q, 'timeoutSeconds'),
    sendInitialEvents: boolParam(q, 'sendInitialEvents'),
  });
  const include = includeObjectParam(q);
  let first = true;
  const s = r.strategy;
  const render = (e: ClientWatchEvent): KubeObject => {
    if (e.type === 'ERROR') return e.object;
    if (shape === 'table') {
      const isBookmark = e.type === 'BOOKMARK';
      const t = tableOf(s, isBookmark ? [] : [e.object], { resourceVersion: e.object.metadata?.resourceVersion }, r.registry.clock.now(), include, first);
      if (!isBookmark) first = false;
      return t;
    }
    if (shape === 'metadata' && e.type !== 'BOOKMARK') return partialMetadata(e.object);
    return e.object;
  };
  const signal = c.req.raw.signal;
  const it = w[Symbol.asyncIterator]();
  const onAbort = () => w.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  const body = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const n = await it.next();
        if (n.done) { ctrl.close(); return; }
        ctrl.enqueue(enc.encode(JSON.stringify({ type: n.value.type, object: render(n.value) }) + '\n'));
      } catch (e) {
        w.close();
        ctrl.error(e);
      }
    },
    cancel() {
      w.close();
      signal?.removeEventListener('abort', onAbort);
    },
  }, { highWaterMark: 0 });
  void w.done.then(() => signal?.removeEventListener('abort', onAbort));
  return new Response(body, {
    status: 200,
    headers: { 'content-type': shape === 'table' ? TABLE_CONTENT_TYPE : 'application/json', 'cache-control': 'no-cache, private' },
  });
}
