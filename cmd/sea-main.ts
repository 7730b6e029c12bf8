// The single executable's entry (scripts/build-binary.ts): it runs one of two bundles carried as assets. `tsk agent`
// runs tsk-agent.cjs, the same program without the server's modules (API server, store, controllers, OpenAPI,
// certificate authority): V8 keeps a copy of a script's whole source, so an agent holding the server's code costs
// ~1.8 MB RSS (bench:agent). Every other command runs tsk.cjs, the whole program. Each bundle is compiled with a code
// cache made at build time under the V8 flags its process runs with. Only Node builtins are used here.
import { getAsset, getRawAsset } from 'node:sea';
import { Script } from 'node:vm';
import { AGENT_NODE_OPTIONS } from './agent-node-options.ts';

const REEXEC_ENV = 'TSK_AGENT_REEXEC';

/**
 * Replaces this process with the same command under AGENT_NODE_OPTIONS, once, before any bundle loads (same PID, so
 * supervisors and benchmarks see no change). TSK_AGENT_NODE_OPTIONS replaces the list (measurements; '' for none).
 */
function reexecAgent(): void {
  const was = process.env[REEXEC_ENV];
  if (was !== undefined) {
    // The re-executed agent: the processes it starts get the NODE_OPTIONS it was started with.
    delete process.env[REEXEC_ENV];
    const original = JSON.parse(was) as string | null;
    if (original === null) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = original;
    return;
  }
  const env = process.env.TSK_AGENT_NODE_OPTIONS;
  const options = env === undefined ? AGENT_NODE_OPTIONS : env.split(' ').filter(Boolean);
  if (!options.length || typeof process.execve !== 'function') return;
  const original = process.env.NODE_OPTIONS;
  // A single executable sees [exe, exe, ...args]: Node repeats the path in the place of a script.
  process.execve(process.execPath, [process.argv0, ...process.argv.slice(2)], {
    ...process.env,
    NODE_OPTIONS: [original, ...options].filter(Boolean).join(' '),
    [REEXEC_ENV]: JSON.stringify(original ?? null),
  });
}

function asset(name: string): ArrayBuffer | undefined {
  try {
    return getRawAsset(name);
  } catch {
    return undefined; // a cross-built executable has no code caches
  }
}

/** The bundle's name: the agent's for `tsk agent ...` (the form install.sh and the tests use), else the whole one. */
function bundleFor(args: string[]): 'tsk-agent' | 'tsk' {
  return args[0] === 'agent' ? 'tsk-agent' : 'tsk';
}

const name = bundleFor(process.argv.slice(2));
if (name === 'tsk-agent') reexecAgent();
const cache = asset(`${name}.cache`);
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${getAsset(`${name}.cjs`, 'utf8')}\n})`, {
  filename: __filename,
  cachedData: cache ? new Uint8Array(cache) : undefined,
});
if (cache && script.cachedDataRejected && process.env.TSK_DEBUG_CODE_CACHE) process.stderr.write(`tsk: the code cache of ${name}.cjs was rejected\n`);
(script.runInThisContext() as (...a: unknown[]) => void)(module.exports, require, module, __filename, __dirname);
