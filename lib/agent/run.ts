// Start order of `tsk agent`: join, containerd, kubelet, proxy, DNS.
import type { AgentConfig } from '../config.ts';

export async function runAgent(config: AgentConfig, signal: AbortSignal): Promise<void> {
  void config;
  void signal;
  throw new Error('tsk agent is not wired yet');
}
