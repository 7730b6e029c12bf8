// The authorizer attributes of a request (verb, resource, namespace, name...), computed once per request: the
// metrics middleware and the authorization hook both need them.
import type { Context } from 'hono';
import { requestAttributes, type RequestAttributes } from '../auth/request-info.ts';

const byRequest = new WeakMap<Request, RequestAttributes>();

export function attributesOf(c: Context): RequestAttributes {
  const req = c.req.raw;
  let a = byRequest.get(req);
  if (!a) byRequest.set(req, (a = requestAttributes(c.req.method, c.req.url)));
  return a;
}
