// The authenticator chain: x509 client certificates, ServiceAccount JWTs, bootstrap tokens; anonymous otherwise.
import { timingSafeEqual } from 'node:crypto';
import type { KubeObject } from '../../client/types.ts';
import { ANONYMOUS, type AuthnRequest, type AuthnResult, type Authenticator, type UserInfo } from './types.ts';

/** The TLS layer verified the certificate against the client CA; CN is the user, O the groups. */
export const x509Authenticator: Authenticator = {
  async authenticate(req) {
    const c = req.clientCert;
    if (!c?.cn) return undefined;
    return { user: { username: c.cn, groups: [...c.o, 'system:authenticated'] } };
  },
};

export const BOOTSTRAP_TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

export interface SecretGetter {
  getSecret(namespace: string, name: string): Promise<KubeObject | undefined>;
}

const data = (s: KubeObject, k: string): string | undefined => {
  const d = (s.data as Record<string, string> | undefined)?.[k];
  if (d !== undefined) return Buffer.from(d, 'base64').toString('utf8');
  return (s.stringData as Record<string, string> | undefined)?.[k];
};

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks a bootstrap token against Secret kube-system/bootstrap-token-<id>; returns its user or undefined. */
export async function checkBootstrapToken(token: string, secrets: SecretGetter, now: number): Promise<UserInfo | undefined> {
  const m = BOOTSTRAP_TOKEN_RE.exec(token);
  if (!m) return undefined;
  const s = await secrets.getSecret('kube-system', `bootstrap-token-${m[1]}`);
  if (!s || s.type !== 'bootstrap.kubernetes.io/token' || s.metadata.deletionTimestamp) return undefined;
  if (data(s, 'token-id') !== m[1] || !safeEqual(data(s, 'token-secret') ?? '', m[2]!)) return undefined;
  const exp = data(s, 'expiration');
  if (exp && Date.parse(exp) <= now) return undefined;
  if (data(s, 'usage-bootstrap-authentication') !== 'true') return undefined;
  const extra = (data(s, 'auth-extra-groups') ?? '').split(',').map((g) => g.trim()).filter((g) => g.startsWith('system:bootstrappers:'));
  return { username: `system:bootstrap:${m[1]}`, groups: ['system:bootstrappers', ...extra, 'system:authenticated'] };
}

/** Bootstrap tokens as bearer tokens, accepted only on the paths given (the join endpoints). */
export function bootstrapTokenAuthenticator(secrets: SecretGetter, o: { pathPrefixes: string[]; now?: () => number }): Authenticator {
  return {
    async authenticate(req) {
      const auth = req.header('authorization');
      if (!auth?.startsWith('Bearer ')) return undefined;
      const tok = auth.slice(7).trim();
      if (!BOOTSTRAP_TOKEN_RE.test(tok)) return undefined;
      if (!o.pathPrefixes.some((p) => req.path.startsWith(p))) return { error: 'bootstrap tokens are accepted only for joining nodes' };
      const user = await checkBootstrapToken(tok, secrets, (o.now ?? Date.now)());
      return user ? { user } : { error: 'invalid bootstrap token' };
    },
  };
}

/** Paths anyone may read without credentials. */
export const PUBLIC_PATHS = ['/version', '/healthz', '/livez', '/readyz', '/cacerts', '/ping'];

export function isPublicPath(path: string): boolean {
  return PUBLIC_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
}

export type AuthOutcome = { user: UserInfo; anonymous: boolean } | { error: string };

/**
 * Runs the chain: the first authenticator that recognises credentials decides. Without credentials the request is
 * anonymous; anonymous requests are allowed only on PUBLIC_PATHS (the caller answers 401 otherwise).
 */
export async function authenticateRequest(chain: Authenticator[], req: AuthnRequest): Promise<AuthOutcome> {
  for (const a of chain) {
    const r: AuthnResult = await a.authenticate(req);
    if (!r) continue;
    if ('error' in r) return r;
    return { user: r.user, anonymous: false };
  }
  if (req.header('authorization')) return { error: 'invalid bearer token' };
  if (isPublicPath(req.path)) return { user: ANONYMOUS, anonymous: true };
  return { error: 'Unauthorized' };
}
