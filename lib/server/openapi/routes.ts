// HTTP routes for /openapi/v3 (index and per group-version documents, with ETag/If-None-Match) and /openapi/v2
// (JSON only: kubectl asks for protobuf there and takes a 406, falling back to v3). Documents are rebuilt lazily
// after the catalog changes (CRDs).
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import type { ResourceStrategy } from '../resources/types.ts';
import { buildDocuments, indexDocument, swaggerV2, type GroupVersionDoc } from './documents.ts';

export interface StrategySource {
  all(): readonly ResourceStrategy[];
  onChange?(fn: () => void): () => void;
}

interface Built {
  docs: Map<string, GroupVersionDoc>;
  index: { body: string; etag: string };
  v2?: { body: string; etag: string };
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
    const docs = buildDocuments(this.#source.all());
    const body = indexDocument(docs);
    const hash = createHash('sha256').update(body).digest('hex').toUpperCase();
    this.#built = { docs: new Map(docs.map((d) => [d.path, d])), index: { body, etag: etagOf(hash) } };
    return this.#built;
  }
  v2(): { body: string; etag: string } {
    const b = this.get();
    if (!b.v2) b.v2 = { body: swaggerV2([...b.docs.values()]), etag: b.index.etag };
    return b.v2;
  }
}

function notFound(message: string) {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'NotFound', code: 404 });
}

/** A hono app serving /openapi/v2 and /openapi/v3/*; mount with app.route('/', openApiRoutes(catalog)). */
export function openApiRoutes(source: StrategySource | OpenApiCache): Hono {
  const cache = source instanceof OpenApiCache ? source : new OpenApiCache(source);
  const app = new Hono();
  const send = (c: { req: { header(n: string): string | undefined }; body: (b: string | null, s: 200 | 304, h: Record<string, string>) => Response }, body: string, etag: string, immutable: boolean) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', ETag: etag, 'Cache-Control': immutable ? 'public, immutable' : 'no-cache, private' };
    const inm = c.req.header('if-none-match');
    if (inm && inm.split(',').map((s) => s.trim()).includes(etag)) return c.body(null, 304, headers);
    return c.body(body, 200, headers);
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
    return send(c, doc.body, etagOf(doc.hash), hash === doc.hash);
  });
  app.get('/openapi/v2', (c) => {
    const accept = c.req.header('accept') ?? '';
    if (accept && !/application\/json|\*\/\*/.test(accept)) {
      return c.body(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'only application/json is served for /openapi/v2', reason: 'NotAcceptable', code: 406 }), 406, { 'Content-Type': 'application/json' });
    }
    const v2 = cache.v2();
    return send(c, v2.body, v2.etag, false);
  });
  return app;
}
