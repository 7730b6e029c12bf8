// What `tsk agent` calls first: join (or reuse the kubelet credentials) with retries while the server is not up,
// failing fast on what retrying cannot fix (wrong token, CA pin mismatch, node password rejected).
import { HttpsClient } from '../../client/https.ts';
import type { Client } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import { joinCluster, JoinError, type JoinOptions, type JoinResult } from './join.ts';

const log = logger('agent/join');

export interface ConnectOptions extends JoinOptions {
  signal: AbortSignal;
  clock?: Clock;
  /** First retry delay (doubles up to 30 s). */
  retryDelayMs?: number;
  /** For tests. */
  join?: (o: JoinOptions) => Promise<JoinResult>;
}

/** Errors worth retrying: the server is unreachable or answered 5xx. */
export function retryable(err: unknown): boolean {
  if (err instanceof JoinError) return /failed \(5\d\d\)|answered 5\d\d/.test(err.message);
  const code = (err as { code?: string }).code;
  return ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EPIPE'].includes(code ?? '') || /timed out|socket hang up/.test(String((err as Error)?.message));
}

export async function connectAgent(o: ConnectOptions): Promise<{ join: JoinResult; client: Client }> {
  const clock = o.clock ?? realClock;
  const join = o.join ?? joinCluster;
  let delay = o.retryDelayMs ?? 1000;
  for (;;) {
    try {
      const r = await join(o);
      return { join: r, client: new HttpsClient({ server: o.server, ca: r.caPem, cert: r.clientCert, key: r.clientKey, userAgent: `tsk-agent/${o.nodeName}` }) };
    } catch (err) {
      if (o.signal.aborted) throw new Error('joining aborted', { cause: err });
      if (!retryable(err)) throw err;
      log.warn('waiting for the server to join', { server: o.server, err: String((err as Error).message ?? err), retryInMs: delay });
      await clock.sleep(delay, o.signal);
      delay = Math.min(delay * 2, 30_000);
    }
  }
}
