// A minimal bridge CNI conflist (bridge + host-local + portmap), used until the pod-network package provides its
// own cniConfig(); written into containerd's CNI conf dir.
import { mkdirSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface BridgeCniOptions {
  podCidr: string;
  /** Network name (also the host-local IPAM key). Default "tsk". */
  name?: string;
  bridge?: string;
  /** host-local's IP allocation directory. */
  ipamDataDir: string;
}

export function bridgeConflist(o: BridgeCniOptions): object {
  return {
    cniVersion: '1.0.0',
    name: o.name ?? 'tsk',
    plugins: [
      {
        type: 'bridge', bridge: o.bridge ?? 'tsk0', isGateway: true, ipMasq: true, hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: o.podCidr }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: o.ipamDataDir },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** Replaces every conflist in confDir with ours (containerd reads max_conf_num = 1). */
export function writeBridgeConflist(confDir: string, o: BridgeCniOptions): string {
  mkdirSync(confDir, { recursive: true });
  for (const f of readdirSync(confDir)) if (/\.(conflist|conf|json)$/.test(f)) rmSync(join(confDir, f), { force: true });
  const file = join(confDir, '10-tsk.conflist');
  writeFileSync(file, JSON.stringify(bridgeConflist(o), null, 2));
  return file;
}
