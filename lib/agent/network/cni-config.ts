// The CNI conflists for pods on this node: bridge cni0 (gateway, hairpin, no plugin masquerade: tsk masquerades
// itself) and host-local IPAM on the node's podCIDR with tsk's own data dir. Every plugin is a separate program run
// per sandbox set-up and tear-down, so the default chain has no portmap: pods with hostPorts use a second conflist in
// the hostport/ subdirectory (bridge + host-local + portmap, same network and IPAM directory), which containerd
// serves under its own runtime handler (lib/agent/containerd/config.ts). Pure + writer.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CniConfigOptions {
  podCidr: string;
  /** host-local IPAM state directory (per node, under tsk's data dir). */
  ipamDataDir: string;
  bridge?: string;
  mtu?: number;
  name?: string;
  /** Append portmap (hostPorts). */
  hostPorts?: boolean;
}

export const CNI_CONFLIST_NAME = '10-tsk.conflist';

/** Where the conflist with portmap lives, for sandboxes with hostPorts (a subdirectory libcni does not scan). */
export function hostPortCniConfDir(confDir: string): string {
  return join(confDir, 'hostport');
}

export function cniConfig(o: CniConfigOptions): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: o.name ?? 'tsk',
    plugins: [
      {
        type: 'bridge',
        bridge: o.bridge ?? 'cni0',
        isGateway: true,
        isDefaultGateway: true, // the default route comes from the bridge plugin; IPAM routes would duplicate it
        ipMasq: false,
        hairpinMode: true,
        ...(o.mtu ? { mtu: o.mtu } : {}),
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: o.podCidr }]],
          dataDir: o.ipamDataDir,
        },
      },
      ...(o.hostPorts ? [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }] : []),
    ],
  };
}

/**
 * Writes the conflists atomically: the hostPort one first (hostPortCniConfDir), then the default one into dir
 * (containerd's cni.conf_dir; its appearance makes the node's network ready). Returns the default file's path.
 */
export async function writeCniConfig(dir: string, o: CniConfigOptions): Promise<string> {
  await writeAtomic(hostPortCniConfDir(dir), cniConfig({ ...o, hostPorts: true }));
  return writeAtomic(dir, cniConfig({ ...o, hostPorts: false }));
}

async function writeAtomic(dir: string, conf: Record<string, unknown>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, CNI_CONFLIST_NAME);
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(conf, null, 2) + '\n', { mode: 0o644 });
  await rename(tmp, file);
  return file;
}
