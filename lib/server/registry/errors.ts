// Constructors for the API errors callers branch on. All are ApiError (lib/client/types.ts) carrying a metav1 Status,
// so the in-process client throws exactly what the HTTP client would; the API turns them into responses in one place.
import { ApiError } from '../../client/types.ts';
import type { StatusCause } from '../resources/types.ts';

interface Target { group: string; plural: string; kind?: string }

const qualified = (t: Target) => (t.group ? `${t.plural}.${t.group}` : t.plural);

function status(code: number, reason: string, message: string, details?: Record<string, unknown>): ApiError {
  return new ApiError({ status: 'Failure', message, reason, code, ...(details ? { details } : {}) });
}

export function notFound(t: Target, name: string): ApiError {
  return status(404, 'NotFound', `${qualified(t)} "${name}" not found`, { name, group: t.group || undefined, kind: t.plural });
}
export function alreadyExists(t: Target, name: string): ApiError {
  return status(409, 'AlreadyExists', `${qualified(t)} "${name}" already exists`, { name, group: t.group || undefined, kind: t.plural });
}
export function conflict(t: Target, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return status(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(t)} "${name}": ${why}`, { name, group: t.group || undefined, kind: t.plural });
}
export function invalid(t: Target & { kind: string }, name: string, causes: StatusCause[]): ApiError {
  const msg = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const joined = msg.length === 1 ? msg[0] : `[${msg.join(', ')}]`;
  return status(422, 'Invalid', `${t.kind} "${name}" is invalid: ${joined}`, { name, group: t.group || undefined, kind: t.kind, causes });
}
export function badRequest(message: string): ApiError {
  return status(400, 'BadRequest', message);
}
export function unauthorized(message = 'Unauthorized'): ApiError {
  return status(401, 'Unauthorized', message);
}
export function forbidden(message: string): ApiError {
  return status(403, 'Forbidden', message);
}
export function methodNotAllowed(message: string): ApiError {
  return status(405, 'MethodNotAllowed', message);
}
export function notAcceptable(message: string): ApiError {
  return status(406, 'NotAcceptable', message);
}
export function unsupportedMediaType(contentType: string): ApiError {
  return status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got ${JSON.stringify(contentType)})`);
}
/** 410 Expired: a list continue token or resourceVersion below the compaction point. */
export function expired(message: string): ApiError {
  return status(410, 'Expired', message);
}
/** 410 Gone: watch from a compacted revision. */
export function gone(message: string): ApiError {
  return status(410, 'Gone', message);
}
export function tooManyRequests(message: string, causes?: StatusCause[]): ApiError {
  return status(429, 'TooManyRequests', message, causes ? { causes } : undefined);
}
export function internal(message: string): ApiError {
  return status(500, 'InternalError', `Internal error occurred: ${message}`);
}
export function timeout(message: string): ApiError {
  return status(504, 'Timeout', message);
}
