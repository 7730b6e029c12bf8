import t from 'tap';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, sandboxConfig, securityContext } from './cri-config.ts';
import type { Pod } from './pod-types.ts';

const pod = (spec: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
});

t.test('seccomp: container over pod, RuntimeDefault/Localhost/Unconfined; the sandbox gets the pod one', async (t) => {
  const p = pod({ securityContext: { seccompProfile: { type: 'RuntimeDefault' } } as never });
  t.same(securityContext(p, p.spec.containers[0]!).seccomp, { profile_type: 'RuntimeDefault' });
  t.same(securityContext(p, { name: 'c', image: 'x', securityContext: { seccompProfile: { type: 'Unconfined' } } }).seccomp, { profile_type: 'Unconfined' });
  t.same(securityContext(p, { name: 'c', image: 'x', securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' } } }).seccomp,
    { profile_type: 'Localhost', localhost_ref: '/var/lib/kubelet/seccomp/profiles/audit.json' });
  t.same(securityContext(pod(), pod().spec.containers[0]!).seccomp, { profile_type: 'Unconfined' }, 'none given: unconfined, as the kubelet');
  t.same(sandboxConfig(p, { logsRoot: '/logs', attempt: 0 }).linux?.security_context?.seccomp, { profile_type: 'RuntimeDefault' });
});

t.test('/proc paths are masked and read-only unless procMount is Unmasked', async (t) => {
  const sc = securityContext(pod(), { name: 'c', image: 'x' });
  t.same([sc.masked_paths, sc.readonly_paths], [DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS]);
  t.ok(sc.masked_paths!.includes('/proc/kcore'));
  const unmasked = securityContext(pod(), { name: 'c', image: 'x', securityContext: { procMount: 'Unmasked' } });
  t.same([unmasked.masked_paths, unmasked.readonly_paths], [[], []]);
});
