// `npm run build`: bundle tsk with esbuild into dist/tsk.cjs and write dist/tsk, a launcher that runs it on the
// pinned Node 24 (the single-binary build replaces the launcher: scripts/build-binary.ts).
import { build } from 'esbuild';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

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

if (import.meta.url === `file://${process.argv[1]}`) {
  await bundle(join(dist, 'tsk.cjs'), ['better-sqlite3']);
  const launcher = `#!/bin/sh
# tsk launcher: runs the bundle on the pinned Node 24 from this checkout.
here=$(dirname "$(readlink -f "$0")")
node="$here/../node_modules/node/bin/node"
[ -x "$node" ] || node=node
NODE_PATH="$here/../node_modules" exec "$node" "$here/tsk.cjs" "$@"
`;
  writeFileSync(join(dist, 'tsk'), launcher);
  chmodSync(join(dist, 'tsk'), 0o755);
  console.log('built dist/tsk');
}
