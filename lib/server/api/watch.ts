// WATCH over HTTP: newline-delimited JSON events, objects as Tables for `kubectl get -w`. Ends on client
// disconnect, timeoutSeconds or when the store ends the watch (the client relists).
import type { Context } from 'hono';
import type { ClientWatchEvent, KubeObject } from '../../client/types.ts';
import { ServerResponse } from 'node:http';
import { watchers } from '../../metrics.ts';
import { watch, type RegistryWatch } from '../registry/watch.ts';
import { includeObjectParam, negotiate, partialMetadata, tableOf, TABLE_CONTENT_TYPE } from './negotiate.ts';
import { listOptions } from './list.ts';
import { boolParam, intParam, type ResourceRequest } from './request.ts';

const enc = new TextEncoder();

/** @hono/node-server writes nothing for a (native) Response carrying this header: the handler wrote it itself. */
const ALREADY_SENT = 'x-hono-already-sent';
/**
 * The runtime's own Response class, taken before @hono/node-server replaces the global with its lightweight one at
 * its first serve() (whose null-body responses it would write out again). Undefined if that already happened: the
 * handler then streams through a web ReadableStream instead.
 */
const AlreadySent: typeof Response | undefined = Object.getOwnPropertySymbols(new Response(null)).length === 0 ? Response : undefined;
/** Serialized lines of shared watch events, per form (JSON, PartialObjectMetadata, Table with or without columns). */
const serialized = new WeakMap<ClientWatchEvent, Map<string, Uint8Array>>();

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
    shared: true,
  });
  const include = includeObjectParam(q);
  let first = true;
  const s = r.strategy;
  const line = (e: ClientWatchEvent, object: KubeObject) => enc.encode(`{"type":${JSON.stringify(e.type)},"object":${JSON.stringify(object)}}\n`);
  const render = (e: ClientWatchEvent): Uint8Array => {
    if (e.type === 'ERROR' || e.type === 'BOOKMARK') {
      if (shape !== 'table' || e.type === 'ERROR') return line(e, e.object);
      return line(e, tableOf(s, [], { resourceVersion: e.object.metadata?.resourceVersion }, r.registry.clock.now(), include, first));
    }
    // Events are shared by the watchers of a store event (registry watch `shared`): serialize each once per form.
    const key = shape === 'table' ? `table/${include}/${first}` : shape;
    let forms = serialized.get(e);
    if (!forms) serialized.set(e, (forms = new Map()));
    let bytes = forms.get(key);
    if (!bytes) {
      const object = shape === 'table'
        ? tableOf(s, [e.object], { resourceVersion: e.object.metadata?.resourceVersion }, r.registry.clock.now(), include, first)
        : shape === 'metadata' ? partialMetadata(e.object) : e.object;
      forms.set(key, (bytes = line(e, object)));
    }
    if (shape === 'table') first = false;
    return bytes;
  };
  const headers = { 'content-type': shape === 'table' ? TABLE_CONTENT_TYPE : 'application/json', 'cache-control': 'no-cache, private' };
  const gauge = { group: r.group, resource: r.resource };
  watchers.inc(gauge);
  void w.done.then(() => watchers.dec(gauge));
  const out = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (out instanceof ServerResponse && AlreadySent) return writeDirect(out, w, render, headers);
  return streamed(c, w, render, headers);
}

/**
 * Writes each event straight to the Node response (no web-stream hops per event and per watcher) and answers hono
 * with a response that @hono/node-server leaves alone. A slow client fills the socket buffer; the watch then stops
 * reading from the store, whose bounded buffer closes it (the client relists).
 */
function writeDirect(out: ServerResponse, w: RegistryWatch, render: (e: ClientWatchEvent) => Uint8Array, headers: Record<string, string>): Response {
  out.writeHead(200, headers);
  out.flushHeaders();
  out.socket?.setNoDelay(true);
  const stop = () => w.close();
  out.once('close', stop);
  void (async () => {
    try {
      for await (const e of w) {
        if (out.destroyed) break;
        if (!out.write(render(e))) await drained(out);
      }
    } catch {
      // the store ended the watch with an error: end the stream, the client relists
    } finally {
      w.close();
      out.off('close', stop);
      if (!out.destroyed) out.end();
    }
  })();
  return new AlreadySent!(null, { headers: { [ALREADY_SENT]: 'true' } });
}

function drained(out: ServerResponse): Promise<void> {
  return new Promise<void>((res) => {
    const done = () => { out.off('drain', done); out.off('close', done); res(); };
    out.on('drain', done);
    out.on('close', done);
  });
}

function streamed(c: Context, w: RegistryWatch, render: (e: ClientWatchEvent) => Uint8Array, headers: Record<string, string>): Response {
  const signal = c.req.raw.signal;
  const it = w[Symbol.asyncIterator]();
  const onAbort = () => w.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  const body = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const n = await it.next();
        if (n.done) { ctrl.close(); return; }
        ctrl.enqueue(render(n.value));
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
  return new Response(body, { status: 200, headers });
}
