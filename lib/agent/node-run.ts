// A node's parts in start order, shared by `tsk server` (in-process client) and `tsk agent` (HTTPS client):
// container runtime → kubelet (registers the Node, heartbeats its Lease) → networking once the node has a podCIDR.
import { join } from 'node:path';
import type { Client } from '../client/types.ts';
import { ClientEventRecorder } from '../controller/events.ts';
import { logger } from '../log/logger.ts';
import { startContainerRuntime, type ContainerRuntime } from './containerd/runtime.ts';
import { evictionConfig } from './eviction/config.ts';
import { nodeEviction } from './eviction/node-eviction.ts';
import { defaultNodeIP, startKubelet } from './kubelet/kubelet.ts';
import { containerLogPolicy, runLogRotation } from './kubelet/log-rotation.ts';
import { runVolumeDirGc, storageDirOf } from './kubelet/pvc-volume-gc.ts';
import { startNodeNetworking } from './network/node-networking.ts';
import { startKubeletServer, type KubeletServer } from './streaming/kubelet-server.ts';

const log = logger('agent/node');

export interface NodeComponentsOptions {
  client: Client;
  dataDir: string;
  nodeName: string;
  nodeIp?: string;
  clusterCidr: string;
  clusterDns: string;
  clusterDomain: string;
  containerRuntimeEndpoint?: string;
  /** --default-runtime (lib/agent/containerd/runtime.ts). */
  defaultRuntime?: string;
  controlPlane: boolean;
  nodeLabels: string[];
  /** --node-taint values. */
  nodeTaints?: string[];
  signal: AbortSignal;
  /** The kubelet's HTTPS API port (default 10250). */
  kubeletPort?: number;
  /** --kubelet-arg values (eviction settings; see lib/agent/eviction/config.ts). */
  kubeletArgs?: string[];
}

export interface NodeComponents {
  runtime: ContainerRuntime;
  nodeIp: string;
  /** Resolves once the node is registered, its pods are syncing and its networking made its first sync. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export async function startNodeComponents(o: NodeComponentsOptions): Promise<NodeComponents> {
  const nodeIp = o.nodeIp ?? defaultNodeIP();
  const eviction = evictionConfig(o.kubeletArgs);
  const logPolicy = containerLogPolicy(o.kubeletArgs);
  const runtime = await startContainerRuntime({ dataDir: o.dataDir, signal: o.signal, containerRuntimeEndpoint: o.containerRuntimeEndpoint, defaultRuntime: o.defaultRuntime });
  const evictionManager = nodeEviction({
    client: o.client, cri: runtime.cri, nodeName: o.nodeName, dataDir: o.dataDir, config: eviction, keepImages: [runtime.pauseImage],
    kubelet: () => kubelet.kubelet,
  });
  const kubelet = startKubelet({
    client: o.client, cri: runtime.cri, nodeName: o.nodeName, dataDir: o.dataDir, signal: o.signal, nodeIP: nodeIp,
    clusterDns: [o.clusterDns], clusterDomain: o.clusterDomain, registries: runtime.registries,
    controlPlane: o.controlPlane, nodeLabels: o.nodeLabels, nodeTaints: o.nodeTaints, nodeOptions: evictionManager.nodeOptions,
    recorder: new ClientEventRecorder({ client: o.client, component: 'kubelet', host: o.nodeName }),
  });
  evictionManager.admitNewPods(kubelet.kubelet);
  void runLogRotation({ cri: runtime.cri, policy: logPolicy, containers: () => kubelet.kubelet.runningLogs(), signal: o.signal });
  void runVolumeDirGc({ client: o.client, storageDir: storageDirOf(o.dataDir), signal: o.signal });
  let kubeletServer: KubeletServer | undefined;
  const ready = (async () => {
    await kubelet.ready;
    void evictionManager.run(o.signal);
    kubeletServer = await startKubeletServer({ kubelet: kubelet.kubelet, cri: runtime.cri, dataDir: o.dataDir, nodeName: o.nodeName, port: o.kubeletPort, signal: o.signal })
      .catch((e) => { log.error('kubelet server failed to start', { err: String(e) }); return undefined; });
    log.info('kubelet ready', { node: o.nodeName });
    const net = await startNodeNetworking({
      client: o.client, nodeName: o.nodeName, nodeIp, clusterCidr: o.clusterCidr, clusterDns: o.clusterDns,
      clusterDomain: o.clusterDomain, cniConfDir: runtime.cniConfDir, stateDir: join(o.dataDir, 'agent'), signal: o.signal,
    });
    await net.ready;
    log.info('node networking ready', { node: o.nodeName, podCidr: net.podCidr });
  })();
  ready.catch((e) => log.error('node start failed', { err: String(e) }));
  return {
    runtime,
    nodeIp,
    ready,
    async stop() {
      await kubeletServer?.close();
      await kubelet.stop();
      await runtime.stop();
    },
  };
}
