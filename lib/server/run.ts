// Start order of `tsk server`: store, certificates, API server, controllers and scheduler, then the node.
import type { ServerConfig } from '../config.ts';

export async function runServer(config: ServerConfig, signal: AbortSignal): Promise<void> {
  void config;
  void signal;
  throw new Error('tsk server is not wired yet');
}
