// Errors of patch application, as ApiError (a Kubernetes Status) so the API layer converts them like any other.
import { ApiError } from '../../client/types.ts';

/** The patch document itself is malformed: 400 BadRequest. */
export function badPatch(message: string): ApiError {
  return new ApiError({ code: 400, reason: 'BadRequest', message, status: 'Failure' });
}

/** The patch is well formed but cannot be applied (failed test op, missing path): 422 Invalid. */
export function unprocessablePatch(message: string): ApiError {
  return new ApiError({ code: 422, reason: 'Invalid', message, status: 'Failure' });
}

/** The patch content type is not accepted for this resource: 415. */
export function unsupportedPatch(contentType: string): ApiError {
  return new ApiError({
    code: 415,
    reason: 'UnsupportedMediaType',
    message: `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`,
    status: 'Failure',
  });
}
