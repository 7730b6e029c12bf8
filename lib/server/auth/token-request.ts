// POST .../serviceaccounts/NAME/token (authentication.k8s.io/v1 TokenRequest): what `kubectl create token` calls.
import { ApiError, type KubeObject } from '../../client/types.ts';
import type { ObjectLookup, ServiceAccountTokens } from './service-account-token.ts';

export const MIN_EXPIRATION_SECONDS = 600;
export const DEFAULT_EXPIRATION_SECONDS = 3600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

function invalid(name: string, field: string, value: unknown, detail: string): ApiError {
  return new ApiError({
    status: 'Failure',
    code: 422,
    reason: 'Invalid',
    message: `TokenRequest.authentication.k8s.io ${JSON.stringify(name)} is invalid: ${field}: Invalid value: ${JSON.stringify(value)}: ${detail}`,
    details: { name, group: 'authentication.k8s.io', kind: 'TokenRequest', causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field }] },
  });
}

function notFound(resource: string, name: string): ApiError {
  return new ApiError({ status: 'Failure', code: 404, reason: 'NotFound', message: `${resource} ${JSON.stringify(name)} not found`, details: { name, kind: resource } });
}

export interface TokenRequestOptions {
  tokens: ServiceAccountTokens;
  lookup: ObjectLookup;
  namespace: string;
  /** The ServiceAccount's name. */
  name: string;
  body: KubeObject;
  now?: () => number;
}

export async function createTokenRequest(o: TokenRequestOptions): Promise<KubeObject> {
  const now = o.now ?? Date.now;
  const sa = await o.lookup.get('serviceaccounts', o.namespace, o.name);
  if (!sa) throw notFound('serviceaccounts', o.name);
  const spec = (o.body.spec ?? {}) as { audiences?: string[]; expirationSeconds?: number; boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } };
  const exp = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (!Number.isInteger(exp) || exp < MIN_EXPIRATION_SECONDS) throw invalid(o.name, 'spec.expirationSeconds', exp, 'may not specify a duration less than 10 minutes');
  if (exp > MAX_EXPIRATION_SECONDS) throw invalid(o.name, 'spec.expirationSeconds', exp, 'may not specify a duration larger than 2^32 seconds');
  const bound: { pod?: { name: string; uid: string }; secret?: { name: string; uid: string }; node?: { name: string; uid: string } } = {};
  const ref = spec.boundObjectRef;
  if (ref) {
    const kinds: Record<string, 'pods' | 'secrets' | 'nodes'> = { Pod: 'pods', Secret: 'secrets', Node: 'nodes' };
    const res = kinds[ref.kind ?? ''];
    if (!res) throw invalid(o.name, 'spec.boundObjectRef.kind', ref.kind, 'supported values: "Pod", "Secret", "Node"');
    if (!ref.name) throw invalid(o.name, 'spec.boundObjectRef.name', ref.name ?? '', 'must be set');
    const obj = await o.lookup.get(res, res === 'nodes' ? '' : o.namespace, ref.name);
    if (!obj) throw notFound(res, ref.name);
    if (ref.uid && ref.uid !== obj.metadata.uid) {
      throw new ApiError({ status: 'Failure', code: 409, reason: 'Conflict', message: `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated` });
    }
    bound[ref.kind === 'Pod' ? 'pod' : ref.kind === 'Secret' ? 'secret' : 'node'] = { name: ref.name, uid: obj.metadata.uid ?? '' };
  }
  const { token, claims } = await o.tokens.issue({
    namespace: o.namespace,
    serviceAccount: { name: o.name, uid: sa.metadata.uid ?? '' },
    audiences: spec.audiences,
    expirationSeconds: exp,
    ...bound,
  });
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: o.name, namespace: o.namespace, creationTimestamp: new Date(now()).toISOString() },
    spec: { audiences: claims.aud, expirationSeconds: exp, boundObjectRef: ref ?? null },
    status: { token, expirationTimestamp: new Date(claims.exp * 1000).toISOString() },
  };
}
