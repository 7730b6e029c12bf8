// 401 and 403 Status bodies worded exactly as the Kubernetes API server words them.
import type { Attributes } from './types.ts';

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string };
  code: number;
}

export function unauthorizedStatus(): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
}

export function forbiddenMessage(a: Attributes): string {
  const user = a.user.username;
  if (!a.resourceRequest) return `User ${JSON.stringify(user)} cannot ${a.verb} path ${JSON.stringify(a.path ?? '')}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : (a.resource ?? '');
  if (a.namespace) return `User ${JSON.stringify(user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup ?? '')} in the namespace ${JSON.stringify(a.namespace)}`;
  return `User ${JSON.stringify(user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup ?? '')} at the cluster scope`;
}

/** The 403 for a denied request; reason is the authorizer's explanation, appended after a colon when present. */
export function forbiddenStatus(a: Attributes, reason?: string): StatusBody {
  let err = forbiddenMessage(a);
  if (reason) err = `${err}: ${reason}`;
  const base = { kind: 'Status' as const, apiVersion: 'v1' as const, metadata: {}, status: 'Failure' as const, reason: 'Forbidden', code: 403 };
  if (!a.resourceRequest || !a.resource) return { ...base, message: `forbidden: ${err}`, details: {} };
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const message = a.name ? `${qualified} ${JSON.stringify(a.name)} is forbidden: ${err}` : `${qualified} is forbidden: ${err}`;
  const details: StatusBody['details'] = { kind: a.resource };
  if (a.name) details.name = a.name;
  if (a.apiGroup) details.group = a.apiGroup;
  return { ...base, message, details };
}
