import type { CommandModule } from 'yargs';
import type { AgentConfig } from '../lib/config.ts';
import { commonConfig, nodeFlags, shutdownSignal } from './common-flags.ts';
import { setupLogging } from './cli.ts';

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
    setupLogging(a as never);
    const config: AgentConfig = { ...commonConfig(a), server: String(a.server), token: String(a.token) };
    const { runAgent } = await import('../lib/agent/run.ts');
    await runAgent(config, shutdownSignal());
  },
};
