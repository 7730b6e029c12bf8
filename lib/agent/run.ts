// Start order of `tsk agent`: join (pinned CA, token, CSRs; reused on later starts) → HTTPS client with the
// kubelet's certificate → the node's parts (containerd, kubelet, networking). Shutdown runs in reverse.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfig } from '../config.ts';
import { HttpsClient } from '../client/https.ts';
import { realClock } from '../clock.ts';
import { logger } from '../log/logger.ts';
import { JoinError, joinCluster, type JoinResult } from './join/join.ts';
import { defaultNodeIP } from './kubelet/kubelet.ts';
import { startNodeComponents } from './node-run.ts';

const log = logger('agent');

/** Joins, retrying while the server is unreachable; a refused token or a failed CA pin ends the agent at once. */
async function joinWithRetry(config: AgentConfig, nodeIp: string, signal: AbortSignal): Promise<JoinResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await joinCluster({ server: config.server, token: config.token, dataDir: config.dataDir, nodeName: config.nodeName, nodeIps: [nodeIp] });
    } catch (err) {
      if (err instanceof JoinError || signal.aborted) throw err;
      const waitMs = Math.min(1000 * 2 ** Math.min(attempt - 1, 4), 15_000);
      log.warn('server not reachable yet; retrying', { server: config.server, attempt, waitMs, err: String((err as Error).message ?? err) });
      await realClock.sleep(waitMs, signal);
    }
  }
}

export async function runAgent(config: AgentConfig, signal: AbortSignal): Promise<void> {
  const started = Date.now();
  const agentDir = join(config.dataDir, 'agent');
  mkdirSync(agentDir, { recursive: true, mode: 0o700 });
  const pidFile = join(agentDir, 'tsk-agent.pid');
  writeFileSync(pidFile, `${process.pid}\n`);
  const nodeIp = config.nodeIp ?? defaultNodeIP();
  const ac = new AbortController();
  const inner = AbortSignal.any([signal, ac.signal]);
  let client: HttpsClient | undefined;
  let stopNode: (() => Promise<void>) | undefined;
  try {
    const joined = await joinWithRetry(config, nodeIp, inner);
    client = new HttpsClient({ server: config.server, ca: joined.caPem, cert: joined.clientCert, key: joined.clientKey, userAgent: `tsk-agent/${config.nodeName}` });
    const node = await startNodeComponents({
      client, dataDir: config.dataDir, nodeName: config.nodeName, nodeIp, clusterCidr: config.clusterCidr,
      clusterDns: config.clusterDns, clusterDomain: config.clusterDomain, containerRuntimeEndpoint: config.containerRuntimeEndpoint,
        defaultRuntime: config.defaultRuntime,
      controlPlane: false, nodeLabels: config.nodeLabels, nodeTaints: config.nodeTaints, signal: inner, kubeletArgs: config.kubeletArgs,
    });
    stopNode = () => node.stop();
    void node.ready.then(() => log.info('node ready', { node: config.nodeName, ms: Date.now() - started }));
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    log.info('shutting down');
  } finally {
    ac.abort();
    await stopNode?.().catch((e) => log.warn('error while stopping the node', { err: String(e) }));
    client?.close();
    rmSync(pidFile, { force: true });
  }
}
