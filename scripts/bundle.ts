// The esbuild bundle of tsk (one CommonJS file) that scripts/build-binary.ts turns into the single executable.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function bundle(outfile: string, external: string[] = []): Promise<void> {
  await build({
    entryPoints: [join(root, 'cmd/tsk.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    outfile,
    external,
    define: { 'import.meta.url': '__tsk_import_meta_url' },
    banner: { js: 'const __tsk_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: 'warning',
    legalComments: 'none',
  });
}

