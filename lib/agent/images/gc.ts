// Image garbage collection: when the image filesystem is above the high threshold (85 %), remove images no container
// uses (never the pause image or pinned ones), largest first, until usage falls under the low threshold (80 %).
import { statfsSync } from 'node:fs';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import type { CriRuntime, Image } from '../cri/types.ts';

const log = logger('agent/images');

export interface GcPolicy { highPercent: number; lowPercent: number }
export const DEFAULT_GC_POLICY: GcPolicy = { highPercent: 85, lowPercent: 80 };

/** Images to remove so that used drops to lowPercent of capacity (pure). */
export function selectImagesToRemove(o: { images: Image[]; inUse: Set<string>; keep: Set<string>; usedBytes: number; capacityBytes: number; policy?: GcPolicy }): Image[] {
  const policy = o.policy ?? DEFAULT_GC_POLICY;
  if (o.capacityBytes <= 0 || (o.usedBytes / o.capacityBytes) * 100 < policy.highPercent) return [];
  let toFree = o.usedBytes - (o.capacityBytes * policy.lowPercent) / 100;
  const candidates = o.images
    .filter((i) => !i.pinned && !o.inUse.has(i.id) && !i.repo_tags.some((t) => o.keep.has(t)))
    .sort((a, b) => Number(b.size) - Number(a.size));
  const out: Image[] = [];
  for (const i of candidates) {
    if (toFree <= 0) break;
    out.push(i);
    toFree -= Number(i.size);
  }
  return out;
}

export interface ImageGcOptions {
  cri: CriRuntime;
  /** Image references never removed (the pause image). */
  keep: string[];
  signal: AbortSignal;
  clock?: Clock;
  periodMs?: number;
  policy?: GcPolicy;
  /** statfs of the image filesystem (injected in tests). */
  capacity?: (mountpoint: string) => { capacityBytes: number; usedBytes: number };
}

function fsUsage(mountpoint: string): { capacityBytes: number; usedBytes: number } {
  const s = statfsSync(mountpoint);
  return { capacityBytes: s.blocks * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize };
}

/** One GC pass; returns the removed image ids. */
export async function collectImages(o: ImageGcOptions): Promise<string[]> {
  const fs = (await o.cri.imageFsInfo())[0];
  const mount = fs?.fs_id?.mountpoint;
  if (!mount) return [];
  const usage = (o.capacity ?? fsUsage)(mount);
  const [images, containers] = await Promise.all([o.cri.listImages(), o.cri.listContainers()]);
  const byRef = new Map<string, string>();
  for (const i of images) { byRef.set(i.id, i.id); for (const t of i.repo_tags) byRef.set(t, i.id); for (const d of i.repo_digests) byRef.set(d, i.id); }
  const inUse = new Set<string>();
  for (const c of containers) {
    for (const ref of [c.image_ref, c.image?.image]) { const id = ref && byRef.get(ref); if (id) inUse.add(id); }
  }
  const remove = selectImagesToRemove({ images, inUse, keep: new Set(o.keep), usedBytes: usage.usedBytes, capacityBytes: usage.capacityBytes, policy: o.policy });
  const removed: string[] = [];
  for (const i of remove) {
    try {
      await o.cri.removeImage(i.id);
      removed.push(i.id);
      log.info('image garbage-collected', { image: i.repo_tags[0] ?? i.id, size: i.size });
    } catch (e) {
      log.warn('removing image failed', { image: i.id, err: String(e) });
    }
  }
  return removed;
}

export function startImageGc(o: ImageGcOptions): void {
  const clock = o.clock ?? realClock;
  void (async () => {
    while (!o.signal.aborted) {
      await clock.sleep(o.periodMs ?? 5 * 60_000, o.signal);
      if (o.signal.aborted) break;
      await collectImages(o).catch((e) => log.warn('image GC failed', { err: String(e) }));
    }
  })();
}
