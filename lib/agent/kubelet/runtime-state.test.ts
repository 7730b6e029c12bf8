import t from 'tap';
import { FakeCri } from '../cri/fake.ts';
import type { PodSandboxConfig } from '../cri/types.ts';
import { L_MANAGED, L_POD_UID } from './labels.ts';
import { RuntimeCache } from './runtime-state.ts';

const sandbox = (uid: string): PodSandboxConfig => ({
  metadata: { name: uid, uid, namespace: 'default', attempt: 0 }, labels: { [L_POD_UID]: uid, [L_MANAGED]: 'true' }, annotations: {},
} as PodSandboxConfig);

t.test('relistPod lists one pod by its uid label and keeps the cache of the others', async (t) => {
  const cri = new FakeCri();
  const cache = new RuntimeCache(cri);
  const a = await cri.runPodSandbox(sandbox('a'));
  await cri.runPodSandbox(sandbox('b'));
  const all = await cache.relist();
  t.same([...all.keys()].sort(), ['a', 'b']);
  cri.calls.length = 0;
  const st = await cache.relistPod('a');
  t.same(st.sandboxes.map((s) => s.id), [a], 'only pod a');
  t.notOk(cri.calls.some((c) => c.method === 'podSandboxStatus'), 'known sandboxes are not asked again');
  t.same((await cache.relistPod('gone')).sandboxes, [], 'an unknown pod is empty');
  cri.calls.length = 0;
  await cache.relist();
  t.notOk(cri.calls.some((c) => c.method === 'podSandboxStatus'), 'the other pod stayed cached');
});
