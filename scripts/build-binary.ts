// The single executable: esbuild bundle → Node single-executable application on the pinned Node 24 base binary,
// with better-sqlite3's prebuilt addon for the target arch embedded as an asset (see lib/native.ts).
//   node scripts/build-binary.ts [--arch x64|arm64] [--out dist/tsk] [--exec-argv '--flag --flag2' (replaces EXEC_ARGV)]
// The host arch uses node_modules/node's binary; another arch fetches `node-linux-<arch>` from the npm registry.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_NODE_OPTIONS } from '../cmd/agent-node-options.ts';
import { bundle } from './bundle.ts';
import { genOpenApi } from './gen-openapi.ts';

const NODE_VERSION = '24.21.0';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hostArch = process.arch === 'arm64' ? 'arm64' : 'x64';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...opts });
}

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The Node base binary for arch, fetched through npm (no other network) when it is not the host's. */
function baseBinary(arch: string, work: string): string {
  const local = join(root, 'node_modules/node/bin/node');
  if (arch === hostArch && existsSync(local)) {
    if (!process.version.startsWith(`v${NODE_VERSION}`)) throw new Error(`run through npm so Node ${NODE_VERSION} is used (got ${process.version})`);
    return local;
  }
  const cache = join(root, 'node_modules/.cache/tsk-build', `node-linux-${arch}-${NODE_VERSION}`);
  const bin = join(cache, 'package/bin/node');
  if (!existsSync(bin)) {
    mkdirSync(cache, { recursive: true });
    const env = { ...process.env };
    delete env.npm_config_nodedir;
    const tgz = run('npm', ['pack', `node-linux-${arch}@${NODE_VERSION}`, '--silent'], { cwd: cache, env }).trim().split('\n').pop()!;
    run('tar', ['xzf', tgz], { cwd: cache });
    rmSync(join(cache, tgz));
  }
  void work;
  return bin;
}

/** Node and V8 options the executable always starts with (the SEA's execArgv; NODE_OPTIONS still applies on top). */
// A V8 young generation of 8 MB semi-spaces instead of Node's 16: bench:scale (3,000 pods, 100 simulated nodes)
// peaks at 343 MB RSS instead of 419 MB at the same pods per CPU second (4 MB: 342 MB but 20 % more CPU).
export const EXEC_ARGV: string[] = ['--max-semi-space-size=8'];

/** Compiles a bundle as cmd/sea-main.ts does and writes V8's code cache of it: node -e CODE_CACHE_JS BUNDLE OUT. */
const CODE_CACHE_JS = `
const { readFileSync, writeFileSync } = require('node:fs');
const { Script } = require('node:vm');
const [file, out] = process.argv.slice(1);
const script = new Script('(function (exports, require, module, __filename, __dirname) {' + readFileSync(file, 'utf8') + '\\n})', { filename: file });
writeFileSync(out, script.createCachedData());
`;

export async function buildBinary(arch: string, out: string, execArgv: string[] = EXEC_ARGV): Promise<void> {
  const work = join(root, 'dist', `.sea-${arch}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // The executable's entry picks one of two bundles (cmd/sea-main.ts): the whole program, or the agent's.
  const main = join(work, 'sea-main.cjs');
  await bundle(main, 'sea-main');
  const assets: Record<string, string> = {};
  for (const [name, nodeOptions] of [['tsk', []], ['tsk-agent', AGENT_NODE_OPTIONS]] as const) {
    assets[`${name}.cjs`] = join(work, `${name}.cjs`);
    await bundle(assets[`${name}.cjs`]!, name);
    if (arch !== hostArch) continue; // a code cache is made by this Node, so only for its own arch
    // V8 rejects a code cache made under other V8 flags: make it under those the bundle's process runs with.
    assets[`${name}.cache`] = join(work, `${name}.cache`);
    run(process.execPath, [...execArgv, ...nodeOptions, '-e', CODE_CACHE_JS, assets[`${name}.cjs`]!, assets[`${name}.cache`]!]);
  }
  const addon = join(root, 'node_modules/better-sqlite3/prebuilds', `linux-${arch}.node`);
  if (!existsSync(addon)) throw new Error(`missing ${addon}`);
  // The built-in OpenAPI definitions, generated now, travel as an asset rather than a constant in the script: only
  // the server reads them (lib/server/openapi/definitions.ts), straight from the executable's pages, while a string
  // in the script would be copied into the V8 heap of every process (agents too: ~0.4 MB).
  const openapi = join(work, 'openapi.json.gz');
  writeFileSync(openapi, genOpenApi());
  const blob = join(work, 'sea.blob');
  const config = {
    main,
    output: blob,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false, // the entry is small; the bundles have their own caches
    assets: { ...assets, 'better_sqlite3.node': addon, 'openapi.json.gz': openapi },
    execArgv,
  };
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config));
  run(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')]);
  const base = baseBinary(arch, work);
  const exe = join(work, 'tsk');
  copyFileSync(base, exe);
  chmodSync(exe, 0o755);
  const strip = arch === hostArch ? 'strip' : 'aarch64-linux-gnu-strip';
  if (has(strip)) run(strip, [exe]);
  else console.warn(`build-binary: ${strip} not found, the executable stays unstripped`);
  run(join(root, 'node_modules/.bin/postject'), [exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], {});
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(exe, out);
  chmodSync(out, 0o755);
  rmSync(work, { recursive: true, force: true });
  console.log(`built ${out} (${arch}, ${(statSync(out).size / 1e6).toFixed(1)} MB)`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const archArg = arg('arch', hostArch);
  const arches = archArg === 'all' ? ['x64', 'arm64'] : [archArg];
  for (const a of arches) {
    if (a !== 'x64' && a !== 'arm64') throw new Error(`--arch ${a}: use x64, arm64 or all`);
    const execArgv = process.argv.includes('--exec-argv') ? arg('exec-argv', '').split(' ').filter(Boolean) : EXEC_ARGV;
    await buildBinary(a, arg('out', a === hostArch && arches.length === 1 ? join(root, 'dist/tsk') : join(root, `dist/tsk-linux-${a}`)), execArgv);
  }
}
