// Real containerd (skipped without root/containerd/CNI plugins): tsk's two conflists and runtime handlers. A sandbox
// without hostPorts runs the default chain (no portmap program); one with a hostPort goes to HOSTPORT_HANDLER, whose
// chain has portmap, and gets its DNAT rule, removed again with the sandbox.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PodSandboxConfig } from '../cri/types.ts';
import { writeCniConfig } from '../network/cni-config.ts';
import { startContainerRuntime, type ContainerRuntime } from './runtime.ts';
import { containerdTestEnv, hasCommand as has } from './test-fixture.ts';

const skip = process.getuid?.() !== 0 ? 'needs root'
  : !has('containerd') || !has('runc') || !has('iptables') || !existsSync('/usr/lib/cni/portmap') ? 'needs containerd, runc, iptables and the CNI plugins' : false;

t.test('hostPort sandboxes use the conflist with portmap; others do not run it', { skip, timeout: 120_000 }, async (t) => {
  const { id, dataDir, netns } = containerdTestEnv(t, { name: 'tsk-hp', dirPrefix: 'tsk-hostport-' });
  const ac = new AbortController();
  let rt: ContainerRuntime | undefined;
  t.teardown(async () => {
    for (const s of await rt?.cri.listPodSandbox().catch(() => []) ?? []) {
      await rt?.cri.stopPodSandbox(s.id).catch(() => {});
      await rt?.cri.removePodSandbox(s.id).catch(() => {});
    }
    await rt?.stop();
    ac.abort();
  });
  execFileSync('ip', ['netns', 'add', netns]);
  execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  const cniConfDir = join(dataDir, 'agent', 'etc', 'cni', 'net.d');
  await writeCniConfig(cniConfDir, { podCidr: '10.199.77.0/24', ipamDataDir: join(dataDir, 'ipam'), bridge: `tskhp${id}`, name: netns });
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
