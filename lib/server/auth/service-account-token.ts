// Bound ServiceAccount tokens: ES256 JWTs signed with <data-dir>/server/tls/service.key, checked on every request
// for signature, time, audience and that the service account (and the pod or secret it is bound to) still exists.
import { createHash, randomUUID } from 'node:crypto';
import type { KubeObject } from '../../client/types.ts';
import { exportPublicJwk, publicKeyToPem, signEs256, verifyEs256, type KeyPair } from '../pki/x509.ts';
import type { AuthnRequest, AuthnResult, Authenticator, UserInfo } from './types.ts';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface ObjectLookup {
  /** The object, or undefined when it does not exist. */
  get(resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', namespace: string, name: string): Promise<KubeObject | undefined>;
}

interface Ref { name: string; uid: string }

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': { namespace: string; serviceaccount: Ref; pod?: Ref; secret?: Ref; node?: Ref };
}

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');

export interface TokenSignerOptions {
  keys: KeyPair;
  issuer?: string;
  /** Audiences the API server accepts; the default audience of new tokens is the first. */
  apiAudiences?: string[];
  now?: () => number;
}

export class ServiceAccountTokens implements Authenticator {
  readonly issuer: string;
  readonly apiAudiences: string[];
  readonly #keys: KeyPair;
  readonly #now: () => number;
  #kid: string | undefined;
  #lookup: ObjectLookup | undefined;

  constructor(o: TokenSignerOptions, lookup?: ObjectLookup) {
    this.#keys = o.keys;
    this.issuer = o.issuer ?? DEFAULT_ISSUER;
    this.apiAudiences = o.apiAudiences ?? [this.issuer];
    this.#now = o.now ?? Date.now;
    this.#lookup = lookup;
  }

  setLookup(lookup: ObjectLookup): void {
    this.#lookup = lookup;
  }

  async #keyId(): Promise<string> {
    this.#kid ??= createHash('sha256').update(await publicKeyToPem(this.#keys.publicKey)).digest('base64url');
    return this.#kid;
  }

  /** The JSON Web Key Set of the signing key (served at /openid/v1/jwks). */
  async jwks(): Promise<{ keys: Record<string, unknown>[] }> {
    const jwk = await exportPublicJwk(this.#keys.publicKey);
    return { keys: [{ use: 'sig', kty: jwk.kty, kid: await this.#keyId(), crv: jwk.crv, alg: 'ES256', x: jwk.x, y: jwk.y }] };
  }

  /** OpenID provider configuration for ServiceAccount issuer discovery. */
  openidConfiguration(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
    };
  }

  async sign(claims: TokenClaims): Promise<string> {
    const header = b64url(JSON.stringify({ alg: 'ES256', kid: await this.#keyId() }));
    const payload = b64url(JSON.stringify(claims));
    const sig = await signEs256(this.#keys.privateKey, Buffer.from(`${header}.${payload}`));
    return `${header}.${payload}.${b64url(sig)}`;
  }

  async issue(o: { namespace: string; serviceAccount: Ref; audiences?: string[]; expirationSeconds: number; pod?: Ref; secret?: Ref; node?: Ref }): Promise<{ token: string; claims: TokenClaims }> {
    const iat = Math.floor(this.#now() / 1000);
    const k8s: TokenClaims['kubernetes.io'] = { namespace: o.namespace, serviceaccount: o.serviceAccount };
    if (o.pod) k8s.pod = o.pod;
    if (o.secret) k8s.secret = o.secret;
    if (o.node) k8s.node = o.node;
    const claims: TokenClaims = {
      aud: o.audiences?.length ? o.audiences : this.apiAudiences,
      exp: iat + o.expirationSeconds,
      iat,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': k8s,
      nbf: iat,
      sub: `system:serviceaccount:${o.namespace}:${o.serviceAccount.name}`,
    };
    return { token: await this.sign(claims), claims };
  }

  /** Verifies signature, issuer and times; returns the claims or a reason. */
  async verify(token: string): Promise<{ claims: TokenClaims } | { error: string } | undefined> {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    let header: { alg?: string };
    let claims: TokenClaims;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (claims.iss !== this.issuer) return undefined; // someone else's JWT: not ours to judge
    if (header.alg !== 'ES256') return { error: 'invalid bearer token' };
    if (!(await verifyEs256(this.#keys.publicKey, Buffer.from(parts[2]!, 'base64url'), Buffer.from(`${parts[0]}.${parts[1]}`)))) return { error: 'invalid bearer token' };
    const now = Math.floor(this.#now() / 1000);
    if (typeof claims.exp !== 'number' || now > claims.exp) return { error: 'service account token has expired' };
    if (typeof claims.nbf === 'number' && now + 60 < claims.nbf) return { error: 'service account token is not valid yet' };
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.some((a) => this.apiAudiences.includes(a))) return { error: 'token audiences is invalid' };
    if (!claims['kubernetes.io']?.serviceaccount?.name) return { error: 'invalid bearer token' };
    return { claims };
  }

  async authenticate(req: AuthnRequest): Promise<AuthnResult> {
    const auth = req.header('authorization');
    if (!auth?.startsWith('Bearer ')) return undefined;
    const v = await this.verify(auth.slice(7).trim());
    if (!v || 'error' in v) return v;
    const k = v.claims['kubernetes.io'];
    if (this.#lookup) {
      const sa = await this.#lookup.get('serviceaccounts', k.namespace, k.serviceaccount.name);
      if (!sa || (k.serviceaccount.uid && sa.metadata.uid !== k.serviceaccount.uid)) return { error: `service account ${k.namespace}/${k.serviceaccount.name} has been deleted` };
      if (k.pod) {
        const pod = await this.#lookup.get('pods', k.namespace, k.pod.name);
        if (!pod || pod.metadata.uid !== k.pod.uid || pod.metadata.deletionTimestamp) return { error: `pod ${k.namespace}/${k.pod.name} the token is bound to no longer exists` };
      }
      if (k.secret) {
        const sec = await this.#lookup.get('secrets', k.namespace, k.secret.name);
        if (!sec || sec.metadata.uid !== k.secret.uid) return { error: `secret ${k.namespace}/${k.secret.name} the token is bound to no longer exists` };
      }
    }
    return { user: serviceAccountUser(v.claims) };
  }
}

export function serviceAccountUser(c: TokenClaims): UserInfo {
  const k = c['kubernetes.io'];
  const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${c.jti}`] };
  if (k.pod) {
    extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
  }
  if (k.node) {
    extra['authentication.kubernetes.io/node-name'] = [k.node.name];
    extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
  }
  return {
    username: `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`,
    uid: k.serviceaccount.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
    extra,
  };
}
