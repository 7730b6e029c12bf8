// The one place where errors become HTTP responses: every failure is a metav1 Status with code and reason.
import { ApiError, type KubeObject } from '../../client/types.ts';
import { logger } from '../../log/logger.ts';
import { AlreadyExistsError, CompactedError, ConflictError, NotFoundError } from '../../store/types.ts';

const log = logger('api');

export function statusOf(e: unknown): { code: number; body: KubeObject } {
  let err: ApiError;
  if (e instanceof ApiError) err = e;
  else if (e instanceof SyntaxError) err = new ApiError({ code: 400, reason: 'BadRequest', status: 'Failure', message: `the request body is not valid JSON: ${e.message}` });
  else if (e instanceof CompactedError) err = new ApiError({ code: 410, reason: 'Expired', status: 'Failure', message: e.message });
  else if (e instanceof AlreadyExistsError) err = new ApiError({ code: 409, reason: 'AlreadyExists', status: 'Failure', message: 'object already exists' });
  else if (e instanceof ConflictError) err = new ApiError({ code: 409, reason: 'Conflict', status: 'Failure', message: 'the object has been modified; please apply your changes to the latest version and try again' });
  else if (e instanceof NotFoundError) err = new ApiError({ code: 404, reason: 'NotFound', status: 'Failure', message: 'not found' });
  else {
    log.error('internal error', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    err = new ApiError({ code: 500, reason: 'InternalError', status: 'Failure', message: `Internal error occurred: ${e instanceof Error ? e.message : String(e)}` });
  }
  const st = err.status as Record<string, unknown>;
  const body = {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: st.message ?? err.message, reason: err.reason,
    ...(st.details ? { details: st.details } : {}), code: err.code,
  } as KubeObject;
  return { code: err.code, body };
}

export function statusResponse(e: unknown): Response {
  const { code, body } = statusOf(e);
  return new Response(JSON.stringify(body), { status: code, headers: { 'content-type': 'application/json' } });
}

export function successStatus(details?: Record<string, unknown>): KubeObject {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', ...(details ? { details } : {}) };
}
