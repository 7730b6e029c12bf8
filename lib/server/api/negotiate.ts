// Response content negotiation: plain JSON objects, meta.k8s.io Tables, or PartialObjectMetadata.
import type { Context } from 'hono';
import type { KubeList, KubeObject } from '../../client/types.ts';
import { notAcceptable } from '../registry/errors.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { defaultCells, defaultColumns } from '../resources/table.ts';

export type Shape = 'object' | 'table' | 'metadata';

export const TABLE_CONTENT_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
export const METADATA_CONTENT_TYPE = 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io';
export const METADATA_LIST_CONTENT_TYPE = 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io';

interface MediaType { type: string; params: Record<string, string> }

export function parseAccept(accept: string | undefined): MediaType[] {
  if (!accept) return [{ type: '*/*', params: {} }];
  return accept.split(',').map((part) => {
    const [type, ...ps] = part.split(';').map((x) => x.trim());
    const params: Record<string, string> = {};
    for (const p of ps) {
      const i = p.indexOf('=');
      if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params };
  }).filter((m) => m.type);
}

/** First acceptable shape in the client's order. JSON (or anything) → object; protobuf-only → 406. */
export function negotiate(c: Context, allowTable = true): Shape {
  const types = parseAccept(c.req.header('accept'));
  for (const m of types) {
    const as = m.params.as;
    if (m.type === 'application/json' && as && m.params.g === 'meta.k8s.io' && ['v1', 'v1beta1'].includes(m.params.v ?? '')) {
      if (as === 'Table' && allowTable) return 'table';
      if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return 'metadata';
      continue;
    }
    if (as) continue;
    if (['application/json', '*/*', 'application/*', 'application/yaml'].includes(m.type)) return 'object';
  }
  throw notAcceptable(`only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf, ${TABLE_CONTENT_TYPE}`);
}

export function partialMetadata(obj: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function tableOf(s: ResourceStrategy, items: KubeObject[], listMeta: KubeList['metadata'], now: number, include: IncludeObject = 'Metadata', withColumns = true): KubeObject {
  const cols = s.columns ?? defaultColumns;
  const cells = s.cells ?? defaultCells;
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta as KubeObject['metadata'],
    columnDefinitions: withColumns ? cols : [],
    rows: items.map((o) => ({
      cells: safeCells(cells, cols.length, o, now),
      ...(include === 'None' ? {} : { object: include === 'Object' ? o : partialMetadata(o) }),
    })),
  };
}

export function includeObjectParam(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

/** Serializes a response body in the negotiated shape. */
export function shaped(c: Context, s: ResourceStrategy, shape: Shape, body: KubeObject, now: number, status = 200): Response {
  let out: unknown = body;
  let type = 'application/json';
  const isList = Array.isArray((body as KubeList).items);
  if (shape === 'table') {
    const items = isList ? (body as KubeList).items : [body];
    out = tableOf(s, items, isList ? body.metadata : { resourceVersion: body.metadata?.resourceVersion }, now, includeObjectParam(new URL(c.req.url).searchParams));
    type = TABLE_CONTENT_TYPE;
  } else if (shape === 'metadata') {
    if (isList) {
      out = { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: body.metadata, items: (body as KubeList).items.map(partialMetadata) };
      type = METADATA_LIST_CONTENT_TYPE;
    } else {
      out = partialMetadata(body);
      type = METADATA_CONTENT_TYPE;
    }
  }
  return new Response(JSON.stringify(out), { status, headers: { 'content-type': type } });
}

/** A row even when a stored object trips the strategy's cell code: the name, then empty cells. */
function safeCells(cells: (o: KubeObject, now: number) => unknown[], n: number, o: KubeObject, now: number): unknown[] {
  try {
    return cells(o, now);
  } catch {
    return [o.metadata?.name ?? '', ...Array<string>(Math.max(0, n - 1)).fill('')];
  }
}
