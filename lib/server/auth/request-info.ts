// From method + URL to authorizer attributes, as Kubernetes' RequestInfoFactory does it.
import type { Attributes } from './types.ts';

export type RequestAttributes = Omit<Attributes, 'user'>;

const methodVerb: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', GET: 'get', HEAD: 'get', DELETE: 'delete' };

export function requestAttributes(method: string, url: string): RequestAttributes {
  const u = new URL(url, 'http://x');
  const path = u.pathname;
  const httpVerb = methodVerb[method.toUpperCase()] ?? method.toLowerCase();
  const nonResource: RequestAttributes = { verb: httpVerb, resourceRequest: false, path };
  let parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  let apiGroup = '';
  let apiVersion: string;
  if (parts[0] === 'api') {
    if (parts.length < 3) return nonResource;
    apiVersion = parts[1]!;
    parts = parts.slice(2);
  } else if (parts[0] === 'apis') {
    if (parts.length < 4) return nonResource;
    apiGroup = parts[1]!;
    apiVersion = parts[2]!;
    parts = parts.slice(3);
  } else return nonResource;

  let verb = httpVerb;
  let watchPrefix = false;
  if (parts[0] === 'watch') {
    watchPrefix = true;
    verb = 'watch';
    parts = parts.slice(1);
  }
  let namespace: string | undefined;
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1];
    if (parts.length > 2 && parts[2] !== 'status' && parts[2] !== 'finalize') parts = parts.slice(2);
  }
  const resource = parts[0];
  let name = parts[1];
  const subresource = parts.length > 2 ? parts[2] : undefined;

  if (!name) {
    if (verb === 'get') verb = u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1' ? 'watch' : 'list';
    if (verb === 'delete') verb = 'deletecollection';
    // list/watch narrowed to one object by metadata.name act on that name.
    if (verb === 'list' || verb === 'watch') {
      const fs = u.searchParams.get('fieldSelector') ?? '';
      const m = /^metadata\.name==?([^,]+)$/.exec(fs);
      if (m) name = m[1];
    }
  } else if (watchPrefix) verb = 'watch';
  return { verb, resourceRequest: true, path, apiGroup, apiVersion, namespace, resource, subresource, name };
}
