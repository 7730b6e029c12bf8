// Parsing of resource URLs, query options and request bodies shared by the verb handlers.
import type { Context } from 'hono';
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../../client/types.ts';
import type { UserInfo } from '../auth/types.ts';
import { decodeProtobufObject, isProtobuf } from '../protobuf/index.ts';
import type { WriteContext } from '../registry/admission.ts';
import { badRequest, methodNotAllowed, notFound, unsupportedMediaType } from '../registry/errors.ts';
import type { Registry } from '../registry/registry.ts';
import type { ResourceStrategy } from '../resources/types.ts';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** A request for a resource collection, object or subresource, with its strategy resolved. */
export interface ResourceRequest {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** /api/v1/watch/... legacy prefix */
  watchPrefix: boolean;
  strategy: ResourceStrategy;
  registry: Registry;
  user: UserInfo;
  query: URLSearchParams;
}

export interface ParsedPath {
  group: string;
  version: string;
  rest: string[];
}

/** /api/v1/... or /apis/g/v/... → group, version, remaining segments (undefined for non-resource paths). */
export function splitApiPath(path: string): ParsedPath | undefined {
  const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  if (parts[0] === 'api' && parts.length >= 2) return { group: '', version: parts[1]!, rest: parts.slice(2) };
  if (parts[0] === 'apis' && parts.length >= 3) return { group: parts[1]!, version: parts[2]!, rest: parts.slice(3) };
  return undefined;
}

/** Resolves the segments after the group-version into a ResourceRequest; 404 when nothing serves it. */
export function resolveResource(registry: Registry, p: ParsedPath, user: UserInfo, query: URLSearchParams): ResourceRequest {
  let rest = p.rest;
  let watchPrefix = false;
  if (rest[0] === 'watch') { watchPrefix = true; rest = rest.slice(1); }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 2 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  const strategy = resource ? registry.catalog.lookup(p.group, p.version, resource) : undefined;
  if (!strategy || extra.length) throw resourceNotFound();
  if (namespace !== undefined && !strategy.namespaced) throw resourceNotFound();
  if (subresource && !strategy.subresources?.some((s) => s.name === subresource)) throw resourceNotFound();
  return { group: p.group, version: p.version, resource: resource!, namespace, name, subresource, watchPrefix, strategy, registry, user, query };
}

export function resourceNotFound() {
  const e = notFound({ group: '', plural: '' }, '');
  (e.status as Record<string, unknown>).message = 'the server could not find the requested resource';
  (e.status as Record<string, unknown>).details = {};
  return Object.assign(e, { message: 'the server could not find the requested resource' });
}

/** An object verb on a namespaced resource needs a namespace in the path. */
export function requireNamespace(r: ResourceRequest): void {
  if (r.strategy.namespaced && !r.namespace) throw resourceNotFound();
}

export function writeContext(r: ResourceRequest, userAgent?: string): WriteContext {
  const dry = r.query.getAll('dryRun');
  for (const d of dry) if (d !== 'All') throw badRequest(`Unsupported dry run option: ${JSON.stringify(d)}; supported: "All"`);
  const fv = r.query.get('fieldValidation');
  if (fv && !['Strict', 'Warn', 'Ignore'].includes(fv)) throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(fv)}: supported values: "Ignore", "Strict", "Warn"`);
  return { dryRun: dry.length > 0, user: r.user, fieldManager: r.query.get('fieldManager') ?? undefined, userAgent, force: r.query.get('force') === 'true' };
}

export async function readBody(c: Context): Promise<Uint8Array> {
  const len = Number(c.req.header('content-length') ?? 0);
  if (len > MAX_BODY_BYTES) throw tooLarge();
  const buf = new Uint8Array(await c.req.arrayBuffer());
  if (buf.length > MAX_BODY_BYTES) throw tooLarge();
  return buf;
}

function tooLarge() {
  const e = badRequest('the request body is too large');
  return Object.assign(e, { code: 413, reason: 'RequestEntityTooLarge' }, { status: { ...e.status, code: 413, reason: 'RequestEntityTooLarge' } });
}

const dec = new TextDecoder();

/** Parses a create/update body: JSON, YAML or kubectl's protobuf envelope. */
export async function readObject(c: Context): Promise<KubeObject> {
  const ct = (c.req.header('content-type') ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  const bytes = await readBody(c);
  let obj: unknown;
  if (isProtobuf(ct)) obj = decodeProtobufObject(bytes);
  else if (ct === 'application/json' || ct === '' || ct === '*/*') obj = parseJson(bytes);
  else if (ct === 'application/yaml') obj = parseYamlBody(bytes);
  else throw unsupportedMediaType(ct);
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest('the request body must be a JSON object');
  return obj as KubeObject;
}

export function parseJson(bytes: Uint8Array): unknown {
  const text = dec.decode(bytes);
  if (!text.trim()) throw badRequest('the request body is empty');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

export function parseYamlBody(bytes: Uint8Array): unknown {
  try {
    return parseYaml(dec.decode(bytes));
  } catch (e) {
    throw badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
  }
}

/** A subresource read and written as the whole object: status, or one with its own update rules (pods/ephemeralcontainers). */
export function isObjectSubresource(r: ResourceRequest): boolean {
  return r.subresource === 'status' || !!r.strategy.subresources?.some((x) => x.name === r.subresource && x.update);
}

export function refuse(method: string, r: ResourceRequest): never {
  throw methodNotAllowed(`the server does not allow this method on the requested resource (${method.toLowerCase()} ${r.resource}${r.subresource ? '/' + r.subresource : ''})`);
}

/** Integer query parameter (400 when malformed). */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`${name}: invalid value ${JSON.stringify(v)}: must be an integer`);
  return Number(v);
}

export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}
