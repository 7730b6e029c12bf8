// Value transformers for data at rest, in the Kubernetes storage format: k8s:enc:aescbc:v1:<key>:<iv><ciphertext>
// and k8s:enc:aesgcm:v1:<key>:<nonce><ciphertext><tag>; identity passes bytes through.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionConfiguration, Provider } from './config.ts';

export interface Transformer {
  /** key is the store key; AES-GCM binds the ciphertext to it. */
  toStorage(bytes: Uint8Array, key: string): Uint8Array;
  fromStorage(bytes: Uint8Array, key: string): Uint8Array;
  /** True when the stored bytes are not in the current write format (re-encryption needed). */
  isStale(bytes: Uint8Array): boolean;
}

interface Codec {
  prefix: Buffer;
  encrypt(plain: Uint8Array, key: string): Buffer;
  decrypt(body: Buffer, key: string): Buffer;
}

function cbc(name: string, secret: Buffer): Codec {
  return {
    prefix: Buffer.from(`k8s:enc:aescbc:v1:${name}:`),
    encrypt(plain) {
      const iv = randomBytes(16);
      const c = createCipheriv('aes-256-cbc', secret, iv);
      return Buffer.concat([iv, c.update(plain), c.final()]);
    },
    decrypt(body) {
      const d = createDecipheriv('aes-256-cbc', secret, body.subarray(0, 16));
      return Buffer.concat([d.update(body.subarray(16)), d.final()]);
    },
  };
}

function gcm(name: string, secret: Buffer): Codec {
  return {
    prefix: Buffer.from(`k8s:enc:aesgcm:v1:${name}:`),
    encrypt(plain, key) {
      const nonce = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', secret, nonce);
      c.setAAD(Buffer.from(key));
      return Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]);
    },
    decrypt(body, key) {
      const d = createDecipheriv('aes-256-gcm', secret, body.subarray(0, 12));
      d.setAAD(Buffer.from(key));
      d.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()]);
    },
  };
}

function codecs(p: Provider): Codec[] | 'identity' {
  if ('identity' in p) return 'identity';
  const make = 'aescbc' in p ? cbc : gcm;
  const keys = 'aescbc' in p ? p.aescbc.keys : p.aesgcm.keys;
  return keys.map((k) => {
    const secret = Buffer.from(k.secret, 'base64');
    if (secret.length !== 32 && secret.length !== 16 && secret.length !== 24) throw new Error(`encryption key ${k.name} must be 16, 24 or 32 bytes`);
    if (secret.length !== 32) throw new Error(`encryption key ${k.name}: only 32-byte (AES-256) keys are supported`);
    return make(k.name, secret);
  });
}

export const identityTransformer: Transformer = {
  toStorage: (b) => b,
  fromStorage: (b) => b,
  isStale: () => false,
};

const ENC_PREFIX = Buffer.from('k8s:enc:');

/** The transformer for Secrets from an EncryptionConfiguration (identity when absent). */
export function transformerFor(cfg: EncryptionConfiguration | undefined, resource = 'secrets'): Transformer {
  const providers = cfg?.resources.find((r) => r.resources.includes(resource))?.providers;
  if (!providers?.length) return identityTransformer;
  const all = providers.map(codecs);
  const readers = all.flatMap((c) => (c === 'identity' ? [] : c));
  const identityAllowed = all.includes('identity');
  const writer = all[0] === 'identity' ? undefined : all[0]![0];
  return {
    toStorage(bytes, key) {
      if (!writer) return bytes;
      return Buffer.concat([writer.prefix, writer.encrypt(bytes, key)]);
    },
    fromStorage(bytes, key) {
      const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (const c of readers) if (b.subarray(0, c.prefix.length).equals(c.prefix)) return c.decrypt(b.subarray(c.prefix.length), key);
      if (b.subarray(0, ENC_PREFIX.length).equals(ENC_PREFIX)) throw new Error(`no encryption key can read ${key} (its key was removed from the encryption config)`);
      if (!identityAllowed) throw new Error(`${key} is stored unencrypted but the encryption config has no identity provider`);
      return bytes;
    },
    isStale(bytes) {
      const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (!writer) return b.subarray(0, ENC_PREFIX.length).equals(ENC_PREFIX);
      return !b.subarray(0, writer.prefix.length).equals(writer.prefix);
    },
  };
}
