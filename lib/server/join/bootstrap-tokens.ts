// Bootstrap tokens as Secrets kube-system/bootstrap-token-<id> (type bootstrap.kubernetes.io/token), managed by
// `tsk token create|list|delete` through any Client (HTTPS with the admin kubeconfig from the CLI).
import { randomInt } from 'node:crypto';
import type { Client, KubeObject } from '../../client/types.ts';

const secretsRef = { group: '', version: 'v1', resource: 'secrets' };
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const rand = (n: number) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

export interface BootstrapToken {
  id: string;
  secret: string;
  expiration?: string;
  description?: string;
  usages: string[];
  groups: string[];
}

/** "24h", "30m", "90s", "7d", "0" (never). Returns milliseconds (0 = never). */
export function parseTtl(s: string): number {
  if (s === '0' || s === '0s') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms']!;
    consumed += m[0].length;
  }
  if (!consumed || consumed !== s.length) throw new Error(`--ttl ${JSON.stringify(s)} is not a duration such as 24h, 30m or 0 (never)`);
  return total;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s?: string) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

export function toSecret(t: BootstrapToken): KubeObject {
  const data: Record<string, string> = { 'token-id': b64(t.id), 'token-secret': b64(t.secret) };
  if (t.expiration) data.expiration = b64(t.expiration);
  if (t.description) data.description = b64(t.description);
  for (const u of t.usages) data[`usage-bootstrap-${u}`] = b64('true');
  if (t.groups.length) data['auth-extra-groups'] = b64(t.groups.join(','));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: `bootstrap-token-${t.id}`, namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token', data };
}

export function fromSecret(s: KubeObject): BootstrapToken | undefined {
  if (s.type !== 'bootstrap.kubernetes.io/token') return undefined;
  const d = (s.data ?? {}) as Record<string, string>;
  const id = unb64(d['token-id']);
  if (!id) return undefined;
  return {
    id,
    secret: unb64(d['token-secret']) ?? '',
    expiration: unb64(d.expiration),
    description: unb64(d.description),
    usages: Object.keys(d).filter((k) => k.startsWith('usage-bootstrap-') && unb64(d[k]) === 'true').map((k) => k.slice('usage-bootstrap-'.length)),
    groups: (unb64(d['auth-extra-groups']) ?? '').split(',').filter(Boolean),
  };
}

export async function createBootstrapToken(client: Pick<Client, 'create'>, o: { ttlMs: number; description?: string; groups?: string[]; now?: number; id?: string; secret?: string }): Promise<BootstrapToken> {
  const t: BootstrapToken = {
    id: o.id ?? rand(6),
    secret: o.secret ?? rand(16),
    expiration: o.ttlMs ? new Date((o.now ?? Date.now()) + o.ttlMs).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined,
    description: o.description,
    usages: ['authentication', 'signing'],
    groups: o.groups ?? [],
  };
  if (!/^[a-z0-9]{6}$/.test(t.id) || !/^[a-z0-9]{16}$/.test(t.secret)) throw new Error('a bootstrap token is [a-z0-9]{6}.[a-z0-9]{16}');
  await client.create(secretsRef, toSecret(t), 'kube-system');
  return t;
}

export async function listBootstrapTokens(client: Pick<Client, 'list'>): Promise<BootstrapToken[]> {
  const list = await client.list(secretsRef, { namespace: 'kube-system' });
  return list.items.map(fromSecret).filter((t): t is BootstrapToken => !!t);
}

export async function deleteBootstrapToken(client: Pick<Client, 'delete'>, idOrToken: string): Promise<void> {
  const id = idOrToken.split('.')[0]!.replace(/^K10[0-9a-f]{64}::/, '');
  if (!/^[a-z0-9]{6}$/.test(id)) throw new Error(`${JSON.stringify(idOrToken)} is not a bootstrap token id ([a-z0-9]{6})`);
  await client.delete(secretsRef, `bootstrap-token-${id}`, 'kube-system');
}
