import { setFlagsFromString } from 'node:v8';
import type { CommandModule } from 'yargs';
import type { AgentConfig } from '../lib/config.ts';
import { commonConfig, nodeFlags, shutdownSignal } from './common-flags.ts';
import { setupLogging } from './cli.ts';

/**
 * V8 flags for the agent process only (the server shares the executable and keeps its optimizing compilers): an
 * idle node runs little JavaScript, so optimized and baseline code and their metadata cost more memory than the CPU
 * they save (measured with `npm run bench:agent`: RSS about -10 MB). Set before the agent's modules load, so that they
 * apply to everything the agent compiles. TSK_AGENT_V8_FLAGS replaces the list (measurements; '' for none).
 */
export const AGENT_V8_FLAGS = [
  '--no-opt', '--no-maglev', '--no-sparkplug', '--optimize-for-size',
  // Drop the bytecode of functions that stopped running (start-up, join) sooner, and let the idle-time memory
  // reducer run a few more full GCs to do it: -2 MB.
  '--bytecode-old-age=1', '--memory-reducer-gc-count=4',
];

export const agentCommand: CommandModule = {
  command: 'agent',
  describe: 'run a node that joins a server',
  builder: (y) =>
    nodeFlags(y)
      .option('server', { alias: 's', type: 'string', demandOption: 'tsk agent needs --server https://HOST:6443', describe: 'server to join' })
      .option('token', { alias: 't', type: 'string', demandOption: 'tsk agent needs --token (see <data-dir>/server/token on the server)', describe: 'join token' })
      .check((a) => {
        let u: URL;
        try { u = new URL(String(a.server)); } catch { throw new Error(`--server ${String(a.server)} is not a URL such as https://10.0.0.1:6443`); }
        if (u.protocol !== 'https:') throw new Error(`--server ${String(a.server)} must use https://`);
        return true;
      }),
  async handler(a) {
    const v8Flags = process.env.TSK_AGENT_V8_FLAGS;
    for (const f of v8Flags === undefined ? AGENT_V8_FLAGS : v8Flags.split(' ').filter(Boolean)) setFlagsFromString(f);
    setupLogging(a as never);
    const config: AgentConfig = { ...commonConfig(a), server: String(a.server), token: String(a.token) };
    const { runAgent } = await import('../lib/agent/run.ts');
    await runAgent(config, shutdownSignal());
  },
};
