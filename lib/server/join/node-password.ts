// Node passwords: the agent keeps a random password; the server stores only its salted hash in the Secret
// kube-system/<node>.node-password.tsk and refuses another machine that claims the same node name.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { isAlreadyExists, isNotFound, type Client, type KubeObject } from '../../client/types.ts';

const secretsRef = { group: '', version: 'v1', resource: 'secrets' };

export const nodePasswordSecretName = (node: string) => `${node}.node-password.tsk`;

export function hashPassword(password: string, salt = randomBytes(16)): string {
  const h = scryptSync(password, salt, 32, { N: 1024 });
  return `scrypt$${salt.toString('base64')}$${h.toString('base64')}`;
}

export function checkPassword(password: string, stored: string): boolean {
  const [alg, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'base64');
  const got = scryptSync(password, Buffer.from(salt, 'base64'), want.length, { N: 1024 });
  return got.length === want.length && timingSafeEqual(got, want);
}

export class NodePasswordRejected extends Error {}

/** Records the password on first join; afterwards verifies it. Throws NodePasswordRejected on mismatch. */
export async function verifyNodePassword(client: Pick<Client, 'get' | 'create'>, node: string, password: string): Promise<void> {
  const name = nodePasswordSecretName(node);
  let existing: KubeObject | undefined;
  try {
    existing = await client.get(secretsRef, name, 'kube-system');
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!existing) {
    try {
      await client.create(secretsRef, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: 'kube-system', labels: { 'tsk.io/node-password': 'true' } },
        type: 'tsk.io/node-password',
        immutable: true,
        data: { hash: Buffer.from(hashPassword(password)).toString('base64') },
      }, 'kube-system');
      return;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      existing = await client.get(secretsRef, name, 'kube-system');
    }
  }
  const stored = Buffer.from(String(existing.data?.hash ?? ''), 'base64').toString('utf8');
  if (!checkPassword(password, stored)) {
    throw new NodePasswordRejected(
      `node password rejected: node name "${node}" is already used by another machine, or its <data-dir>/agent/node-password changed; ` +
        `pick another --node-name, or delete Secret kube-system/${name} if the machine was reinstalled`,
    );
  }
}

