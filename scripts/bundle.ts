// The esbuild bundles of tsk (CommonJS files) that scripts/build-binary.ts puts into the single executable:
//   tsk.cjs        the whole program (cmd/tsk.ts);
//   tsk-agent.cjs  the same entry for `tsk agent`: every module that a command loads on first use (`await import`
//                  in cmd/), except the agent's own run.ts, is left out, so the server's code is not in it; so is
//                  @grpc/proto-loader, which grpc-js requires only to serve its channelz and ORCA services;
//   sea-main.cjs   the executable's entry (cmd/sea-main.ts), which runs one of the two.
import { build, type Plugin } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export type BundleKind = 'tsk' | 'tsk-agent' | 'sea-main';

/** The modules cmd/ loads on first use (other than the agent's) and @grpc/proto-loader: a module that throws if loaded. */
const agentOnly: Plugin = {
  name: 'agent-only',
  setup(b) {
    b.onResolve({ filter: /^@grpc\/proto-loader$/ }, (a) => ({ path: a.path, namespace: 'not-in-agent' }));
    b.onResolve({ filter: /^\.\.?\// }, (a) => {
      if (a.kind !== 'dynamic-import' || dirname(a.importer) !== join(root, 'cmd') || a.path === '../lib/agent/run.ts') return undefined;
      return { path: a.path, namespace: 'not-in-agent' };
    });
    b.onLoad({ filter: /.*/, namespace: 'not-in-agent' }, (a) => ({
      contents: `throw new Error(${JSON.stringify(`${a.path} is not in the agent's bundle`)});`,
      loader: 'js',
    }));
  },
};

export async function bundle(outfile: string, kind: BundleKind = 'tsk'): Promise<void> {
  await build({
    entryPoints: [join(root, kind === 'sea-main' ? 'cmd/sea-main.ts' : 'cmd/tsk.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    outfile,
    plugins: kind === 'tsk-agent' ? [agentOnly] : [],
    define: { 'import.meta.url': '__tsk_import_meta_url' },
    banner: { js: 'const __tsk_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: 'warning',
    legalComments: 'none',
    // A smaller script is less memory in every process: V8 keeps a copy of the whole source.
    // keepNames: class and function names stay as written (errors, logs).
    minify: true,
    keepNames: true,
  });
  // cmd/sea-main.ts compiles a bundle as a function body, where cmd/tsk.ts's #! line would be a syntax error. And it
  // decodes the bundle from UTF-8, which gives a string of two bytes per character (twice the memory) as soon as one
  // character is not ASCII: esbuild leaves some in regular expression literals (/µs/), which mean the same escaped.
  let js = readFileSync(outfile, 'utf8');
  if (js.startsWith('#!')) js = `//${js.slice(2)}`;
  writeFileSync(outfile, js.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
