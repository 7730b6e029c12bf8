// When a Node is deleted, its node-password Secret goes too, so another machine may take the name (as k3s does).
import { isNotFound, type Client } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import { nodePasswordSecretName } from './node-password.ts';

const log = logger('server/join');
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
const secretsRef = { group: '', version: 'v1', resource: 'secrets' };

export async function removeNodePassword(client: Pick<Client, 'delete'>, node: string): Promise<void> {
  try {
    await client.delete(secretsRef, nodePasswordSecretName(node), 'kube-system');
    log.info('removed the node password of a deleted node', { node });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Watches Nodes until the signal aborts; relists after errors with backoff. */
export async function runNodePasswordCleanup(client: Pick<Client, 'list' | 'watch' | 'delete'>, signal: AbortSignal, clock: Clock = realClock): Promise<void> {
  let delay = 500;
  while (!signal.aborted) {
    try {
      const list = await client.list(nodesRef);
      const w = await client.watch(nodesRef, { resourceVersion: list.metadata.resourceVersion });
      const stop = () => w.close();
      signal.addEventListener('abort', stop, { once: true });
      delay = 500;
      try {
        for await (const ev of w) {
          if (ev.type === 'DELETED' && ev.object.metadata.name) await removeNodePassword(client, ev.object.metadata.name);
          if (ev.type === 'ERROR') break;
        }
      } finally {
        signal.removeEventListener('abort', stop);
      }
    } catch (err) {
      if (signal.aborted) return;
      log.warn('node watch failed; relisting', { err: String(err) });
      await clock.sleep(delay, signal);
      delay = Math.min(delay * 2, 10_000);
    }
  }
}
