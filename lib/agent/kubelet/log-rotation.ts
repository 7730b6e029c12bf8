// Container log rotation, as the kubelet's container log manager does it: every 10 s, the log file of a running
// container that grew past `--kubelet-arg=container-log-max-size` (default 10Mi) is renamed to
// <log>.<YYYYMMDD-hhmmss> and the runtime reopens the path (CRI ReopenContainerLog; on failure the file is renamed
// back and tried again next round). Rotated files except the newest are gzipped, and at most
// `container-log-max-files` (default 5) files are kept per container, the live one included, so one chatty pod
// cannot fill a node's disk. `kubectl logs` reads the live file (as upstream).
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import type { CriRuntime } from '../cri/types.ts';
import { kubeletArgMap } from '../eviction/config.ts';
import { quantity } from './quantity.ts';

const log = logger('agent/kubelet/logs');

export interface ContainerLogPolicy { maxBytes: number; maxFiles: number }
export const DEFAULT_LOG_POLICY: ContainerLogPolicy = { maxBytes: 10 * 1024 * 1024, maxFiles: 5 };

/** The policy from --kubelet-arg values (container-log-max-size, container-log-max-files); throws on bad values. */
export function containerLogPolicy(args: readonly string[] = []): ContainerLogPolicy {
  const m = kubeletArgMap(args);
  const size = m.get('container-log-max-size');
  const files = m.get('container-log-max-files');
  let maxBytes = DEFAULT_LOG_POLICY.maxBytes;
  try { if (size !== undefined) maxBytes = quantity(size); } catch { maxBytes = NaN; }
  if (!Number.isFinite(maxBytes) || maxBytes <= 0) throw new Error(`--kubelet-arg=container-log-max-size=${size}: want a size such as 10Mi`);
  if (files !== undefined && (!/^\d+$/.test(files) || Number(files) < 2)) throw new Error(`--kubelet-arg=container-log-max-files=${files}: must be an integer greater than 1`);
  return { maxBytes: Math.floor(maxBytes), maxFiles: files === undefined ? DEFAULT_LOG_POLICY.maxFiles : Number(files) };
}

const GZ = '.gz';
const TMP = '.tmp';

/**
 * What to do with a container's rotated files (names of the form <log>.<timestamp>[.gz][.tmp]) before the next
 * rotation (pure): unfinished temporary files and uncompressed copies of compressed ones go; of the rest the newest
 * maxFiles - 2 stay (room for the live file and the one about to be rotated), and those not yet compressed are.
 */
export function rotationPlan(rotated: readonly string[], maxFiles: number): { remove: string[]; compress: string[] } {
  const remove = rotated.filter((f) => f.endsWith(TMP) || (!f.endsWith(GZ) && rotated.includes(f + GZ)));
  const rest = rotated.filter((f) => !remove.includes(f)).sort();
  const keep = rest.slice(Math.max(0, rest.length - Math.max(0, maxFiles - 2)));
  remove.push(...rest.filter((f) => !keep.includes(f)));
  return { remove, compress: keep.filter((f) => !f.endsWith(GZ)) };
}

const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, '').replace(/-/g, '').replace('T', '-').replace(/:/g, '');

async function compress(file: string): Promise<void> {
  await pipeline(createReadStream(file), createGzip(), createWriteStream(file + GZ + TMP));
  await rename(file + GZ + TMP, file + GZ);
  await rm(file, { force: true });
}

/** Rotates one container's log if it is over the limit; returns whether it did. */
export async function rotateContainerLog(cri: Pick<CriRuntime, 'reopenContainerLog'>, id: string, logPath: string, policy: ContainerLogPolicy, now: number): Promise<boolean> {
  const size = await stat(logPath).then((s) => s.size, () => -1);
  if (size < policy.maxBytes) return false;
  const dir = dirname(logPath);
  const prefix = `${basename(logPath)}.`;
  const rotated = (await readdir(dir)).filter((f) => f.startsWith(prefix)).map((f) => join(dir, f));
  const plan = rotationPlan(rotated, policy.maxFiles);
  for (const f of plan.remove) await rm(f, { force: true });
  for (const f of plan.compress) await compress(f);
  const target = `${logPath}.${stamp(now)}`;
  if (rotated.includes(target)) return false; // rotated this second already
  await rename(logPath, target);
  try {
    await cri.reopenContainerLog(id);
  } catch (e) {
    await rename(target, logPath).catch(() => {});
    throw new Error(`failed to reopen container log ${id}`, { cause: e });
  }
  return true;
}

export interface LogRotationOptions {
  cri: Pick<CriRuntime, 'reopenContainerLog'>;
  policy: ContainerLogPolicy;
  /** Running containers and their log files (the kubelet's latest relist). */
  containers: () => Iterable<{ id: string; logPath: string }>;
  signal: AbortSignal;
  clock?: Clock;
  periodMs?: number;
}

/** Checks every running container's log each period until the signal aborts. */
export async function runLogRotation(o: LogRotationOptions): Promise<void> {
  const clock = o.clock ?? realClock;
  while (!o.signal.aborted) {
    await clock.sleep(o.periodMs ?? 10_000, o.signal);
    for (const c of o.containers()) {
      if (o.signal.aborted || !c.logPath) break;
      try {
        if (await rotateContainerLog(o.cri, c.id, c.logPath, o.policy, clock.now())) log.info('rotated container log', { container: c.id, file: c.logPath });
      } catch (e) {
        log.warn('container log rotation failed', { container: c.id, err: e instanceof Error ? `${e.message}: ${String(e.cause)}` : String(e) });
      }
    }
  }
}
