// Secrets encryption at rest: the Kubernetes EncryptionConfiguration in <data-dir>/server/cred/encryption-config.json.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface KeyEntry { name: string; secret: string }
export type Provider = { aescbc: { keys: KeyEntry[] } } | { aesgcm: { keys: KeyEntry[] } } | { identity: Record<string, never> };

export interface EncryptionConfiguration {
  kind: 'EncryptionConfiguration';
  apiVersion: 'apiserver.config.k8s.io/v1';
  resources: { resources: string[]; providers: Provider[] }[];
}

export const encryptionConfigFile = (dataDir: string) => join(dataDir, 'server', 'cred', 'encryption-config.json');

export function readEncryptionConfig(dataDir: string): EncryptionConfiguration | undefined {
  const f = encryptionConfigFile(dataDir);
  if (!existsSync(f)) return undefined;
  const doc = JSON.parse(readFileSync(f, 'utf8')) as EncryptionConfiguration;
  if (doc.kind !== 'EncryptionConfiguration' || !Array.isArray(doc.resources)) throw new Error(`${f} is not an EncryptionConfiguration`);
  return doc;
}

export function writeEncryptionConfig(dataDir: string, cfg: EncryptionConfiguration): void {
  const f = encryptionConfigFile(dataDir);
  mkdirSync(dirname(f), { recursive: true, mode: 0o700 });
  writeFileSync(`${f}.tmp`, JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${f}.tmp`, f);
}

const newKey = (n: number): KeyEntry => ({ name: `aescbckey-${n}`, secret: randomBytes(32).toString('base64') });

function secretProviders(cfg: EncryptionConfiguration): Provider[] {
  return cfg.resources.find((r) => r.resources.includes('secrets'))?.providers ?? [];
}

/** `tsk secrets-encrypt enable` (aescbc) and `tsk server --secrets-encryption` (aesgcm): a config whose first
 * provider encrypts with a fresh key (identity kept for reading); an existing encrypting config is kept as it is. */
export function enableEncryption(dataDir: string, provider: 'aescbc' | 'aesgcm' = 'aescbc'): EncryptionConfiguration {
  const existing = readEncryptionConfig(dataDir);
  const providers = existing ? secretProviders(existing) : [];
  const first = providers[0];
  if (first && ('aescbc' in first || 'aesgcm' in first)) return existing!;
  const cbc = providers.find((p): p is { aescbc: { keys: KeyEntry[] } } => 'aescbc' in p);
  const rest = providers.filter((p) => p !== cbc && !('identity' in p));
  const cfg: EncryptionConfiguration = {
    kind: 'EncryptionConfiguration',
    apiVersion: 'apiserver.config.k8s.io/v1',
    resources: [{ resources: ['secrets'], providers: [cbc ?? (provider === 'aesgcm' ? { aesgcm: { keys: [{ name: `aesgcmkey-${Date.now()}`, secret: randomBytes(32).toString('base64') }] } } : { aescbc: { keys: [newKey(Date.now())] } }), ...rest, { identity: {} }] }],
  };
  writeEncryptionConfig(dataDir, cfg);
  return cfg;
}

/** `tsk secrets-encrypt disable`: identity first; keys stay so existing data can still be read. */
export function disableEncryption(dataDir: string): EncryptionConfiguration | undefined {
  const existing = readEncryptionConfig(dataDir);
  if (!existing) return undefined;
  const providers = secretProviders(existing).filter((p) => !('identity' in p));
  const cfg: EncryptionConfiguration = { ...existing, resources: [{ resources: ['secrets'], providers: [{ identity: {} }, ...providers] }] };
  writeEncryptionConfig(dataDir, cfg);
  return cfg;
}

/** `tsk secrets-encrypt rotate-keys`: a new aescbc key goes first; old keys stay for reading until re-encryption. */
export function rotateEncryptionKeys(dataDir: string): EncryptionConfiguration {
  const cfg = enableEncryption(dataDir);
  const providers = secretProviders(cfg);
  const first = providers[0]!;
  if ('aescbc' in first) first.aescbc.keys.unshift(newKey(Date.now()));
  else if ('aesgcm' in first) first.aesgcm.keys.unshift({ name: `aesgcmkey-${Date.now()}`, secret: randomBytes(32).toString('base64') });
  writeEncryptionConfig(dataDir, cfg);
  return cfg;
}

export interface EncryptionStatus {
  enabled: boolean;
  provider: string;
  currentKey?: string;
  keys: string[];
}

export function encryptionStatus(dataDir: string): EncryptionStatus {
  const cfg = readEncryptionConfig(dataDir);
  if (!cfg) return { enabled: false, provider: 'identity', keys: [] };
  const providers = secretProviders(cfg);
  const first = providers[0];
  const keys = providers.flatMap((p) => ('aescbc' in p ? p.aescbc.keys : 'aesgcm' in p ? p.aesgcm.keys : []).map((k) => k.name));
  if (!first || 'identity' in first) return { enabled: false, provider: 'identity', keys };
  const kind = 'aescbc' in first ? 'aescbc' : 'aesgcm';
  const list = 'aescbc' in first ? first.aescbc.keys : first.aesgcm.keys;
  return { enabled: true, provider: kind, currentKey: list[0]?.name, keys };
}
