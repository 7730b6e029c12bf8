// cleanupProxyRules: removes every TSK- proxy chain and the jumps into them (for `tsk killall`).
import type { CommandRunner } from '../exec/runner.ts';
import { detectIptables, removeChains, type Iptables } from '../exec/iptables.ts';
import { isProxyChain } from './names.ts';

export async function cleanupProxyRules(runner: CommandRunner, ipt?: Iptables): Promise<void> {
  const i = ipt ?? (await detectIptables(runner));
  await removeChains(runner, i, ['nat'], (c) => isProxyChain('nat', c));
  await removeChains(runner, i, ['filter'], (c) => isProxyChain('filter', c));
}
