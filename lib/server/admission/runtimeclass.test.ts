import t from 'tap';
import type { KubeObject } from '../../client/types.ts';
import type { AdmissionAttributes } from '../registry/admission.ts';
import { runtimeClassAdmission } from './runtimeclass.ts';

const rc = (name: string, o: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name }, handler: name, ...o }) as KubeObject;
const pod = (spec: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [{ name: 'c' }], ...spec } }) as KubeObject;
const attrs = (o: KubeObject, operation: AdmissionAttributes['operation'] = 'CREATE', subresource?: string): AdmissionAttributes =>
  ({ operation, group: '', version: 'v1', resource: 'pods', subresource, kind: 'Pod', namespace: 'ns', name: 'p', object: o, dryRun: false });

const gvisor = rc('gvisor', {
  overhead: { podFixed: { cpu: '250m', memory: '120Mi' } },
  scheduling: { nodeSelector: { sandbox: 'gvisor' }, tolerations: [{ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }] },
});

t.test('a pod gets the overhead and scheduling of its RuntimeClass', async (t) => {
  type Case = { name: string; spec: Record<string, unknown>; want?: Record<string, unknown>; error?: string };
  const cases: Case[] = [
    { name: 'no class: unchanged', spec: {}, want: { containers: [{ name: 'c' }] } },
    { name: 'class without overhead or scheduling', spec: { runtimeClassName: 'plain' }, want: { runtimeClassName: 'plain', containers: [{ name: 'c' }] } },
    {
      name: 'overhead, node selector and tolerations merged',
      spec: { runtimeClassName: 'gvisor', nodeSelector: { zone: 'a' }, tolerations: [{ key: 'x', operator: 'Exists' }] },
      want: {
        runtimeClassName: 'gvisor', containers: [{ name: 'c' }], overhead: { cpu: '250m', memory: '120Mi' },
        nodeSelector: { zone: 'a', sandbox: 'gvisor' },
        tolerations: [{ key: 'x', operator: 'Exists' }, { key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }],
      },
    },
    {
      name: 'an equal overhead and toleration given by the pod are kept once',
      spec: { runtimeClassName: 'gvisor', overhead: { cpu: '0.25', memory: '120Mi' }, tolerations: [{ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }] },
      want: {
        runtimeClassName: 'gvisor', containers: [{ name: 'c' }], overhead: { cpu: '250m', memory: '120Mi' },
        nodeSelector: { sandbox: 'gvisor' }, tolerations: [{ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }],
      },
    },
    { name: 'unknown class', spec: { runtimeClassName: 'kata' }, error: 'pods "p" is forbidden: pod rejected: RuntimeClass "kata" not found' },
    { name: 'overhead that differs', spec: { runtimeClassName: 'gvisor', overhead: { cpu: '1' } }, error: "pods \"p\" is forbidden: pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead" },
    { name: 'overhead without a class', spec: { overhead: { cpu: '1' } }, error: 'pods "p" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead' },
    { name: 'overhead with a class that defines none', spec: { runtimeClassName: 'plain', overhead: { cpu: '1' } }, error: 'pods "p" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead' },
    {
      name: 'conflicting node selector', spec: { runtimeClassName: 'gvisor', nodeSelector: { sandbox: 'kata' } },
      error: 'pods "p" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[sandbox] = gvisor; pod.spec.nodeSelector[sandbox] = kata',
    },
  ];
  const look = { list: async () => [gvisor, rc('plain')] };
  for (const c of cases) {
    const p = pod(c.spec);
    if (c.error) {
      await t.rejects(runtimeClassAdmission(look, attrs(p)), { code: 403, reason: 'Forbidden', message: c.error }, c.name);
      continue;
    }
    await runtimeClassAdmission(look, attrs(p));
    t.same(p.spec, c.want, c.name);
  }
});

t.test('only pod creation is checked, and classes are read only for pods that name one', async (t) => {
  let reads = 0;
  const look = { list: async () => { reads++; return []; } };
  await runtimeClassAdmission(look, attrs(pod({ runtimeClassName: 'kata' }), 'UPDATE'));
  await runtimeClassAdmission(look, attrs(pod({ runtimeClassName: 'kata' }), 'CREATE', 'status'));
  await runtimeClassAdmission(look, attrs(pod()));
  t.equal(reads, 0);
});
