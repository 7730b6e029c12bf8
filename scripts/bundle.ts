// The esbuild bundle of tsk (one CommonJS file) that scripts/build-binary.ts turns into the single executable.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { genOpenApi } from './gen-openapi.ts';

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
    // The built-in OpenAPI definitions, generated now and embedded (lib/server/openapi/definitions.ts).
    define: { 'import.meta.url': '__tsk_import_meta_url', __TSK_OPENAPI_GZ__: JSON.stringify(genOpenApi().toString('base64')) },
    banner: { js: 'const __tsk_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: 'warning',
    legalComments: 'none',
    // A smaller script is less memory in every process: the source is mapped from the executable and V8 keeps it.
    // keepNames: class and function names stay as written (errors, logs).
    minify: true,
    keepNames: true,
  });
}

