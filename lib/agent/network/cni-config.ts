// The CNI conflist for pods on this node: bridge cni0 (gateway, hairpin, no plugin masquerade: tsk masquerades
// itself), host-local IPAM on the node's podCIDR with tsk's own data dir, and portmap for hostPorts. Pure + writer.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CniConfigOptions {
  podCidr: string;
  /** host-local IPAM state directory (per node, under tsk's data dir). */
  ipamDataDir: string;
  bridge?: string;
  mtu?: number;
  name?: string;
}

export const CNI_CONFLIST_NAME = '10-tsk.conflist';

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
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** Writes the conflist atomically into dir (containerd's cni.conf_dir). Returns the file path. */
export async function writeCniConfig(dir: string, o: CniConfigOptions): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, CNI_CONFLIST_NAME);
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(cniConfig(o), null, 2) + '\n', { mode: 0o644 });
  await rename(tmp, file);
  return file;
}
