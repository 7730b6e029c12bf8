// Test fixture for the tests on a real containerd (hostport.test.ts, test/kubelet-containerd.test.ts): what the
// machine has, and a data dir and network namespace whose leftovers are removed on teardown.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, type Teardown } from '../../test-fixture.ts';

/** The command is on PATH. */
export const hasCommand = (cmd: string): boolean => {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
};

export interface ContainerdTestEnv {
  id: string;
  dataDir: string;
  /** `<name>-<id>`: the network namespace to create, and the name of the CNI network. */
  netns: string;
}

/**
 * A temp data dir and a network namespace name. On teardown, after the teardowns the caller registers later (stopping
 * sandboxes and containerd): unmounts what is still mounted below the data dir, deletes the namespace, removes the
 * CNI result files of the network, then the data dir.
 */
export function containerdTestEnv(t: Teardown, o: { name: string; dirPrefix: string }): ContainerdTestEnv {
  const id = randomBytes(3).toString('hex');
  const netns = `${o.name}-${id}`;
  const dataDir = tempDir(t, o.dirPrefix);
  t.teardown(() => {
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dataDir));
    for (const m of mounts.reverse()) { try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* already gone */ } }
    try { execFileSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' }); } catch { /* gone */ }
    for (const d of ['/var/lib/cni/results', '/var/lib/cni/cache/results']) {
      try { for (const f of readdirSync(d)) if (f.startsWith(`${netns}-`)) rmSync(join(d, f), { force: true }); } catch { /* none */ }
    }
  });
  return { id, dataDir, netns };
}
