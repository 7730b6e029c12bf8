// The 403 an admission plugin answers with, worded as the Kubernetes apiserver does.
import { ApiError } from '../../client/types.ts';
import type { AdmissionAttributes } from '../registry/admission.ts';

/** `<resource>[.<group>] "<name>" is forbidden: <why>` as a Forbidden Status. */
export function forbiddenError(a: AdmissionAttributes, why: string): ApiError {
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  const name = a.name ?? a.object?.metadata?.name;
  return new ApiError({
    kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 403, reason: 'Forbidden',
    message: name ? `${qualified} ${JSON.stringify(name)} is forbidden: ${why}` : `${qualified} is forbidden: ${why}`,
    details: { name, group: a.group || undefined, kind: a.resource },
  });
}
