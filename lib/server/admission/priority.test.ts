import t from 'tap';
import type { KubeObject } from '../../client/types.ts';
import type { AdmissionAttributes } from '../registry/admission.ts';
import { priorityAdmission } from './priority.ts';
import { systemPriorityClasses } from '../resources/scheduling.ts';

const pc = (name: string, value: number, o: { globalDefault?: boolean; preemptionPolicy?: string } = {}): KubeObject =>
  ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, preemptionPolicy: 'PreemptLowerPriority', ...o }) as KubeObject;
// As tsk's pod defaults leave it: priority 0 and PreemptLowerPriority unless given.
const pod = (spec: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { priority: 0, preemptionPolicy: 'PreemptLowerPriority', containers: [{ name: 'c' }], ...spec } }) as KubeObject;
const create = (o: KubeObject, resource = 'pods', group = ''): AdmissionAttributes =>
  ({ operation: 'CREATE', group, version: 'v1', resource, kind: o.kind!, namespace: o.metadata.namespace, name: o.metadata.name, object: o, dryRun: false });

t.test('pods get the priority of their class, the default class, or 0', async (t) => {
  type Case = { name: string; classes: KubeObject[]; spec?: Record<string, unknown>; want?: [string | undefined, number, string]; error?: string };
  const cases: Case[] = [
    { name: 'no class, no default', classes: [...systemPriorityClasses], want: [undefined, 0, 'PreemptLowerPriority'] },
    { name: 'named class', classes: [...systemPriorityClasses, pc('high', 1000)], spec: { priorityClassName: 'high' }, want: ['high', 1000, 'PreemptLowerPriority'] },
    { name: 'system class', classes: [...systemPriorityClasses], spec: { priorityClassName: 'system-node-critical' }, want: ['system-node-critical', 2000001000, 'PreemptLowerPriority'] },
    { name: 'class with preemptionPolicy Never', classes: [pc('batch', 10, { preemptionPolicy: 'Never' })], spec: { priorityClassName: 'batch' }, want: ['batch', 10, 'Never'] },
    { name: 'global default (the lowest of several)', classes: [pc('d1', 50, { globalDefault: true }), pc('d2', 20, { globalDefault: true }), pc('x', 1)], want: ['d2', 20, 'PreemptLowerPriority'] },
    { name: 'unknown class', classes: [], spec: { priorityClassName: 'nope' }, error: 'pods "p" is forbidden: no PriorityClass with name nope was found' },
    { name: 'a priority that disagrees with the class', classes: [pc('high', 1000)], spec: { priorityClassName: 'high', priority: 7 },
      error: 'pods "p" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name' },
    { name: 'a priority without a class', classes: [], spec: { priority: 7 },
      error: 'pods "p" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name' },
    { name: 'a matching priority is fine', classes: [pc('high', 1000)], spec: { priorityClassName: 'high', priority: 1000 }, want: ['high', 1000, 'PreemptLowerPriority'] },
    { name: 'a preemptionPolicy that disagrees', classes: [pc('high', 1000)], spec: { priorityClassName: 'high', preemptionPolicy: 'Never' },
      error: 'pods "p" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name' },
  ];
  for (const c of cases) {
    const p = pod(c.spec);
    const look = { list: async () => c.classes };
    if (c.error) {
      await t.rejects(priorityAdmission(look, create(p)), { code: 403, reason: 'Forbidden', message: c.error }, c.name);
      continue;
    }
    await priorityAdmission(look, create(p));
    t.same([p.spec.priorityClassName, p.spec.priority, p.spec.preemptionPolicy], c.want, c.name);
  }
});

t.test('updates keep the priority set at creation; subresources untouched', async (t) => {
  const old = pod({ priorityClassName: 'high', priority: 1000, preemptionPolicy: 'Never' });
  const next = pod({ priorityClassName: 'high' });
  await priorityAdmission({ list: async () => { throw new Error('not read'); } }, { ...create(next), operation: 'UPDATE', oldObject: old });
  t.same([next.spec.priority, next.spec.preemptionPolicy], [1000, 'Never']);
  const bound = pod({ priorityClassName: 'nope' });
  await priorityAdmission({ list: async () => [] }, { ...create(bound), subresource: 'binding' });
  t.equal(bound.spec.priority, 0);
});

t.test('only one global default PriorityClass', async (t) => {
  const look = { list: async () => [pc('d', 5, { globalDefault: true })] };
  const ref = (o: KubeObject) => create(o, 'priorityclasses', 'scheduling.k8s.io');
  await t.rejects(priorityAdmission(look, ref(pc('e', 6, { globalDefault: true }))), {
    code: 403, message: 'priorityclasses.scheduling.k8s.io "e" is forbidden: PriorityClass d is already marked as default. Only one default can exist',
  });
  await priorityAdmission(look, ref(pc('f', 6)));
  await priorityAdmission(look, { ...ref(pc('d', 5, { globalDefault: true })), operation: 'UPDATE' });
  await t.rejects(priorityAdmission(look, { ...ref(pc('g', 1, { globalDefault: true })), operation: 'UPDATE' }), { code: 403 });
});

t.test('classes are cached briefly, re-read for an unknown name and after a class write', async (t) => {
  let lists = 0;
  const classes = [pc('d', 5, { globalDefault: true })];
  const look = { list: async () => { lists++; return [...classes]; } };
  for (let i = 0; i < 5; i++) await priorityAdmission(look, create(pod()));
  t.equal(lists, 1, 'one list for five pods');
  classes.push(pc('new', 7));
  const p = pod({ priorityClassName: 'new' });
  await priorityAdmission(look, create(p));
  t.equal(p.spec.priority, 7, 'a class missing from the cache is re-read');
  t.equal(lists, 2);
  classes.length = 0;
  await priorityAdmission(look, { operation: 'DELETE', group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', kind: 'PriorityClass', name: 'd', oldObject: pc('d', 5), dryRun: false });
  const q = pod();
  await priorityAdmission(look, create(q));
  t.same([q.spec.priorityClassName, q.spec.priority], [undefined, 0], 'the deleted default no longer applies');
});
