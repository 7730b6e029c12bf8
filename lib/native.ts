// Native addons inside the single executable: the addon bytes travel as a SEA asset, are written once to a cache
// directory named by their hash, and are loaded with process.dlopen. Outside a SEA this returns undefined and the
// package loads its addon the normal way.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

interface SeaModule {
  isSea(): boolean;
  getRawAsset(name: string): ArrayBuffer;
}

function sea(): SeaModule | undefined {
  try {
    const m = require('node:sea') as SeaModule;
    return m.isSea() ? m : undefined;
  } catch {
    return undefined;
  }
}

export function isSingleExecutable(): boolean {
  return sea() !== undefined;
}

/** The bytes of asset `name` in the executable (a view of its mapped pages, not a copy), or undefined outside one. */
export function embeddedAsset(name: string): Buffer | undefined {
  const s = sea();
  return s ? Buffer.from(s.getRawAsset(name)) : undefined;
}

/** Loads the addon asset `name` (e.g. better_sqlite3.node) from the executable, or undefined outside one. */
export function loadEmbeddedAddon(name: string, cacheDirs: string[] = defaultCacheDirs()): object | undefined {
  const s = sea();
  if (!s) return undefined;
  const bytes = Buffer.from(s.getRawAsset(name));
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  let lastError: unknown;
  for (const dir of cacheDirs) {
    try {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${hash}-${name}`);
      if (!existsSync(file)) {
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, bytes, { mode: 0o755 });
        renameSync(tmp, file);
      }
      const mod = { exports: {} as object };
      process.dlopen(mod, file);
      return mod.exports;
    } catch (err) {
      lastError = err; // e.g. a noexec mount: "failed to map segment from shared object"; try the next dir
    }
  }
  throw new Error(`loading embedded ${name}`, { cause: lastError });
}

function defaultCacheDirs(): string[] {
  const dirs = [];
  if (process.env.TSK_NATIVE_CACHE) dirs.push(process.env.TSK_NATIVE_CACHE);
  if (process.getuid?.() === 0) dirs.push('/var/lib/tsk/native', '/run/tsk/native');
  if (process.env.HOME) dirs.push(join(process.env.HOME, '.cache', 'tsk'));
  dirs.push(join(tmpdir(), `tsk-native-${process.getuid?.() ?? 0}`));
  return dirs;
}
