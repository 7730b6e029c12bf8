// HTTP routes for /openapi/v3 (index and per group-version documents, with ETag/If-None-Match) and /openapi/v2
// (JSON, or protobuf as kubectl asks for it). Documents are rebuilt lazily after the catalog changes (CRDs) and kept
// gzip-compressed: clients accepting gzip (kubectl, client-go) get them as they are.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Hono, type Context } from 'hono';
import type { ResourceStrategy } from '../resources/types.ts';
import { buildOpenApi, indexDocument, swaggerV2Text, v2Text, V2_INFO, type GroupVersionDoc } from './documents.ts';
import { encodeSwaggerV2, OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_TYPE } from './v2-proto.ts';

export interface StrategySource {
  all(): readonly ResourceStrategy[];
  onChange?(fn: () => void): () => void;
}

interface Built {
  docs: Map<string, GroupVersionDoc>;
  /** Every schema's v3 JSON text (shared with the definitions store; CRD schemas added). */
  schemas: Map<string, string>;
  index: { body: string; etag: string };
  /** /openapi/v2, gzip-compressed, each form built when first asked for. */
  v2json?: Buffer;
  v2proto?: Buffer;
}

const etagOf = (hash: string) => `"${hash}"`;

/** Lazily built, change-invalidated OpenAPI documents for a strategy source. */
export class OpenApiCache {
  #source: StrategySource;
  #built: Built | undefined;
  constructor(source: StrategySource) {
    this.#source = source;
    source.onChange?.(() => { this.#built = undefined; });
  }
  invalidate(): void {
    this.#built = undefined;
  }
  get(): Built {
    if (this.#built) return this.#built;
    const { docs, schemas } = buildOpenApi(this.#source.all());
    const body = indexDocument(docs);
    const hash = createHash('sha256').update(body).digest('hex').toUpperCase();
    this.#built = { docs: new Map(docs.map((d) => [d.path, d])), schemas, index: { body, etag: etagOf(hash) } };
    return this.#built;
  }
  /** The v2 document, gzip-compressed, as JSON or as protobuf. */
  v2(proto: boolean): { body: Buffer; etag: string } {
    const b = this.get();
    if (proto) {
      b.v2proto ??= gzipSync(encodeSwaggerV2(V2_INFO, [...b.schemas.keys()].sort().map((n) => [n, v2Text(b.schemas.get(n)!)] as [string, string])));
      return { body: b.v2proto, etag: b.index.etag.replace(/"$/, '-pb"') };
    }
    b.v2json ??= gzipSync(swaggerV2Text(b.schemas));
    return { body: b.v2json, etag: b.index.etag };
  }
}

function notFound(message: string) {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'NotFound', code: 404 });
}

/** A hono app serving /openapi/v2 and /openapi/v3/*; mount with app.route('/', openApiRoutes(catalog)). */
export function openApiRoutes(source: StrategySource | OpenApiCache): Hono {
  const cache = source instanceof OpenApiCache ? source : new OpenApiCache(source);
  const app = new Hono();
  const send = (c: Context, body: string | Buffer, etag: string, immutable: boolean, type = 'application/json') => {
    const headers: Record<string, string> = { 'Content-Type': type, ETag: etag, 'Cache-Control': immutable ? 'public, immutable' : 'no-cache, private', Vary: 'Accept-Encoding' };
    const inm = c.req.header('if-none-match');
    if (inm && inm.split(',').map((s) => s.trim()).includes(etag)) return c.body(null, 304, headers);
    if (typeof body === 'string') return c.body(body, 200, headers);
    // body is gzip-compressed
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) return c.body(new Uint8Array(body), 200, { ...headers, 'Content-Encoding': 'gzip' });
    return c.body(new Uint8Array(gunzipSync(body)), 200, headers);
  };
  app.get('/openapi/v3', (c) => send(c, cache.get().index.body, cache.get().index.etag, false));
  app.get('/openapi/v3/*', (c) => {
    const path = c.req.path.replace(/^\/openapi\/v3\//, '').replace(/\/$/, '');
    const doc = cache.get().docs.get(path);
    if (!doc) return c.body(notFound(`the server could not find the requested resource`), 404, { 'Content-Type': 'application/json' });
    const hash = c.req.query('hash');
    if (hash && hash !== doc.hash) {
      // A stale hash: redirect to the current document, as kube-apiserver does.
      return c.redirect(`/openapi/v3/${doc.path}?hash=${doc.hash}`, 301);
    }
    return send(c, doc.gz, etagOf(doc.hash), hash === doc.hash);
  });
  app.get('/openapi/v2', (c) => {
    const accept = c.req.header('accept') ?? '';
    const proto = accept.includes(OPENAPI_V2_PROTOBUF) || accept.includes(OPENAPI_V2_PROTOBUF_TYPE);
    if (accept && !proto && !/application\/json|\*\/\*/.test(accept)) {
      return c.body(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `only application/json and ${OPENAPI_V2_PROTOBUF} are served for /openapi/v2`, reason: 'NotAcceptable', code: 406 }), 406, { 'Content-Type': 'application/json' });
    }
    const v2 = cache.v2(proto);
    return send(c, v2.body, v2.etag, false, proto ? OPENAPI_V2_PROTOBUF_TYPE : 'application/json');
  });
  return app;
}
