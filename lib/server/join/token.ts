// The cluster join token: K10<sha256 of the CA bundle>::server:<secret> (k3s secure format), in <data-dir>/server/token.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ParsedToken {
  /** sha256 hex of the CA bundle, when the token pins it. */
  caHash?: string;
  username?: string;
  /** The secret (or a bootstrap token id.secret). */
  secret: string;
}

export function caHash(caPem: string): string {
  return createHash('sha256').update(caPem).digest('hex');
}

export function formatToken(caPem: string, secret: string, username = 'server'): string {
  return `K10${caHash(caPem)}::${username}:${secret}`;
}

export function parseToken(token: string): ParsedToken {
  const t = token.trim();
  const m = /^K10([0-9a-f]{64})::(?:([^:]+):)?(.+)$/.exec(t);
  if (m) return { caHash: m[1], username: m[2], secret: m[3]! };
  if (t.startsWith('K10')) throw new Error('the token looks like a K10 secure token but is malformed (expected K10<64 hex>::server:<secret>)');
  return { secret: t };
}

export const tokenFile = (dataDir: string) => join(dataDir, 'server', 'token');

/**
 * Writes <data-dir>/server/token and returns the secret. The secret is --token when given (bare or full form),
 * else the one already on disk, else a new random one.
 */
export function ensureServerToken(o: { dataDir: string; caPem: string; token?: string }): { secret: string; token: string } {
  const file = tokenFile(o.dataDir);
  let secret: string | undefined;
  if (o.token) {
    const p = parseToken(o.token);
    if (p.caHash && p.caHash !== caHash(o.caPem)) throw new Error('--token pins a CA hash that does not match this server\'s CA (<data-dir>/server/tls/server-ca.crt)');
    secret = p.secret;
  } else if (existsSync(file)) {
    secret = parseToken(readFileSync(file, 'utf8')).secret;
  }
  secret ??= randomBytes(16).toString('hex');
  const token = formatToken(o.caPem, secret);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(`${file}.tmp`, `${token}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return { secret, token };
}

/** `tsk token rotate`: a new join secret in <data-dir>/server/token (random unless given). */
export function rotateServerToken(o: { dataDir: string; caPem: string; newSecret?: string }): { secret: string; token: string } {
  return ensureServerToken({ dataDir: o.dataDir, caPem: o.caPem, token: o.newSecret ?? randomBytes(16).toString('hex') });
}

/** The current join secret from <data-dir>/server/token (the server re-reads it so `tsk token rotate` applies). */
export function readServerSecret(dataDir: string): string | undefined {
  const f = tokenFile(dataDir);
  return existsSync(f) ? parseToken(readFileSync(f, 'utf8')).secret : undefined;
}
