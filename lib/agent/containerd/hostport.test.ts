// Real containerd (skipped without root/containerd/CNI plugins): tsk's two conflists and runtime handlers. A sandbox
// without hostPorts runs the default chain (no portmap program); one with a hostPort goes to HOSTPORT_HANDLER, whose
// chain has portmap, and gets its DNAT rule, removed again with the sandbox.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { PodSandboxConfig } from '../cri/types.ts';
import { writeCniConfig } from '../network/cni-config.ts';
import { startContainerRuntime, type ContainerRuntime } from './runtime.ts';

const has = (cmd: string) => { try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; } };
const skip = process.getuid?.() !== 0 ? 'needs root'
  : !has('containerd') || !has('runc') || !has('iptables') || !existsSync('/usr/lib/cni/portmap') ? 'needs containerd, runc, iptables and the CNI plugins' : false;

t.test('hostPort sandboxes use the conflist with portmap; others do not run it', { skip, timeout: 120_000 }, async (t) => {
  const id = randomBytes(3).toString('hex');
  const netns = `tsk-hp-${id}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tsk-hostport-'));
  const ac = new AbortController();
  let rt: ContainerRuntime | undefined;
  t.teardown(async () => {
    for (const s of await rt?.cri.listPodSandbox().catch(() => []) ?? []) {
      await rt?.cri.stopPodSandbox(s.id).catch(() => {});
      await rt?.cri.removePodSandbox(s.id).catch(() => {});
    }
    await rt?.stop();
    ac.abort();
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dataDir));
    for (const m of mounts.reverse()) { try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* gone */ } }
    try { execFileSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' }); } catch { /* gone */ }
    for (const d of ['/var/lib/cni/results', '/var/lib/cni/cache/results']) {
      try { execFileSync('sh', ['-c', `rm -f ${d}/tsk-hp-${id}-*`], { stdio: 'ignore' }); } catch { /* none */ }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  execFileSync('ip', ['netns', 'add', netns]);
  execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  const cniConfDir = join(dataDir, 'agent', 'etc', 'cni', 'net.d');
  await writeCniConfig(cniConfDir, { podCidr: '10.199.77.0/24', ipamDataDir: join(dataDir, 'ipam'), bridge: `tskhp${id}`, name: `tsk-hp-${id}` });
  rt = await startContainerRuntime({ dataDir, signal: ac.signal, cniConfDir, netns, registriesFile: join(dataDir, 'none.yaml') });
  const cri = rt.cri;
  const sandbox = (name: string, ports: PodSandboxConfig['port_mappings']): PodSandboxConfig => ({
    metadata: { name, uid: `${name}-${id}`, namespace: 'default', attempt: 0 }, hostname: name, log_directory: join(dataDir, 'logs', name),
    port_mappings: ports, labels: {}, annotations: {},
    linux: { cgroup_parent: '', security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  } as PodSandboxConfig);
  const nat = () => execFileSync('ip', ['netns', 'exec', netns, 'iptables', '-w', '-t', 'nat', '-S'], { encoding: 'utf8' });

  const plain = await cri.runPodSandbox(sandbox('plain', []));
  t.match((await cri.podSandboxStatus(plain))?.network?.ip, /^10\.199\.77\./, 'plain sandbox has a pod IP');
  t.notMatch(nat(), /CNI-HOSTPORT-DNAT/, 'no hostPort chains for it');

  const web = await cri.runPodSandbox(sandbox('web', [{ protocol: 'TCP', container_port: 80, host_port: 18080, host_ip: '' }]));
  t.match((await cri.podSandboxStatus(web))?.network?.ip, /^10\.199\.77\./, 'hostPort sandbox has a pod IP from the same range');
  t.match(nat(), /--dport 18080/, 'its hostPort DNAT rule exists');
  await cri.stopPodSandbox(web);
  await cri.removePodSandbox(web);
  t.notMatch(nat(), /--dport 18080/, 'removed with the sandbox');
});
