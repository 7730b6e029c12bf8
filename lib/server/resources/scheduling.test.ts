import t from 'tap';
import type { KubeObject } from '../../client/types.ts';
import { priorityclasses, systemPriorityClasses } from './scheduling.ts';

const pc = (name: string, value: unknown, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, preemptionPolicy: 'PreemptLowerPriority', ...extra }) as KubeObject;
const messages = (o: KubeObject, old?: KubeObject) => (priorityclasses.validate!(o, old, {} as never) as { field: string; message: string }[]).map((c) => `${c.field}: ${c.message}`);

t.test('PriorityClass validation as upstream', async (t) => {
  for (const s of systemPriorityClasses) t.same(messages(s), [], `${s.metadata.name} is valid`);
  t.same(messages(pc('high', 1000)), []);
  t.same(messages(pc('top', 1_000_000_000)), []);
  t.match(messages(pc('too-high', 1_000_000_001)), [/^value: .*maximum allowed value of a user defined priority is 1000000000/]);
  t.match(messages(pc('system-mine', 5)), [/priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class/]);
  t.match(messages(pc('system-node-critical', 5)), [/error: value of system-node-critical PriorityClass must be 2000001000/]);
  t.match(messages(pc('system-cluster-critical', 2_000_000_000, { globalDefault: true })), [/error: globalDefault of system-cluster-critical PriorityClass must be false/]);
  t.match(messages(pc('p', 1, { preemptionPolicy: 'Sometimes' })), [/preemptionPolicy/]);
  t.match(messages(pc('p', 2), pc('p', 1)), [/^value: .*may not be changed in an update\./]);
  t.match(messages(pc('p', 1, { preemptionPolicy: 'Never' }), pc('p', 1)), [/^preemptionPolicy: .*immutable/]);
  t.same(messages(pc('p', 1, { description: 'changed', globalDefault: true }), pc('p', 1)), [], 'description and globalDefault may change');
});
