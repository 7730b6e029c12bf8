import type { CommandModule } from 'yargs';
import { DEFAULTS } from '../lib/config.ts';
import { setupLogging } from './cli.ts';

export const killallCommand: CommandModule = {
  command: 'killall',
  describe: 'stop tsk, its pods and containerd, and remove the network setup (iptables chains, bridge, VXLAN) and mounts',
  builder: (y) =>
    y.option('data-dir', { alias: 'd', type: 'string', default: DEFAULTS.dataDir, describe: 'folder holding state' })
      .option('cluster-cidr', { type: 'string', default: DEFAULTS.clusterCidr, describe: 'IPv4 network of pod IPs (its routes are removed)' }),
  async handler(a) {
    setupLogging(a as never);
    if (process.getuid?.() !== 0) throw new Error('tsk killall must run as root');
    const { killall } = await import('../lib/agent/killall.ts');
    await killall({ dataDir: String(a.dataDir), clusterCidr: String(a.clusterCidr) });
  },
};
