// Pod cgroups: each pod's sandbox and containers live under /kubepods[/<qos>]/pod<uid> (cgroupfs driver; runc
// creates the directories). What runc leaves behind — the empty pod directories — is removed here after the pod.
import { readdirSync, rmdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { qosClass } from './status.ts';
import type { Pod } from './pod-types.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';
const CGROUP2_MAGIC = 0x63677270;

export function podCgroupParent(pod: Pod): string {
  const qos = pod.status?.qosClass ?? qosClass(pod);
  return qos === 'Guaranteed' ? `/kubepods/pod${pod.metadata.uid}` : `/kubepods/${qos.toLowerCase()}/pod${pod.metadata.uid}`;
}

/** Hierarchy roots: the unified root on cgroup v2, every controller directory on v1. */
function hierarchies(root: string): string[] {
  try {
    if (statfsSync(root).type === CGROUP2_MAGIC) return [root];
    return readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(root, d.name));
  } catch {
    return [];
  }
}

/** Removes the (empty) pod cgroup directories of uid in every hierarchy; failures are ignored. */
export function removePodCgroups(uid: string, root = CGROUP_ROOT): void {
  for (const h of hierarchies(root)) {
    for (const qos of ['', 'burstable/', 'besteffort/']) {
      try { rmdirSync(join(h, 'kubepods', `${qos}pod${uid}`)); } catch { /* absent or busy */ }
    }
  }
}

/** Removes every empty directory of the /kubepods tree, deepest first (tests, `tsk killall` after the sandboxes are gone). */
export function removeKubepodsIfEmpty(root = CGROUP_ROOT): void {
  const walk = (dir: string): void => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) if (e.isDirectory()) walk(join(dir, e.name));
    try { rmdirSync(dir); } catch { /* processes inside, or already gone */ }
  };
  for (const h of hierarchies(root)) walk(join(h, 'kubepods'));
}
