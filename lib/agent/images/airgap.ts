// The air-gap directory (<data-dir>/agent/images/, k3s's convention): every image archive in it is imported at
// start and whenever a new or changed file appears (polled; inotify is not worth a dependency here).
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import { isImageArchive, type ImageImporter } from './import.ts';

const log = logger('agent/images');

export interface AirgapOptions {
  dir: string;
  importer: Pick<ImageImporter, 'importFile'>;
  signal: AbortSignal;
  clock?: Clock;
  pollMs?: number;
}

/** Imports what is new since the last scan; returns the files imported. `seen` maps file → "size:mtime". */
export async function scanAirgap(dir: string, importer: Pick<ImageImporter, 'importFile'>, seen: Map<string, string>): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(dir).filter(isImageArchive).sort();
  } catch {
    return [];
  }
  const done: string[] = [];
  for (const n of names) {
    const f = join(dir, n);
    let key: string;
    try {
      const st = statSync(f);
      key = `${st.size}:${st.mtimeMs}`;
    } catch {
      continue;
    }
    if (seen.get(f) === key) continue;
    try {
      await importer.importFile(f);
      seen.set(f, key);
      done.push(f);
    } catch (e) {
      log.warn('importing image archive failed', { file: f, err: String(e) });
      seen.set(f, key); // retried when the file changes
    }
  }
  return done;
}

/** Scans once (the returned promise resolves after the first scan), then polls until the signal aborts. */
export async function watchAirgap(o: AirgapOptions): Promise<void> {
  const clock = o.clock ?? realClock;
  mkdirSync(o.dir, { recursive: true });
  const seen = new Map<string, string>();
  await scanAirgap(o.dir, o.importer, seen);
  void (async () => {
    while (!o.signal.aborted) {
      await clock.sleep(o.pollMs ?? 10_000, o.signal);
      if (o.signal.aborted) break;
      await scanAirgap(o.dir, o.importer, seen);
    }
  })();
}
