// node.k8s.io/v1 RuntimeClass.
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy } from './types.ts';
import { dns1123Label, immutable, validateMeta } from './validation.ts';

export const runtimeclasses: ResourceStrategy = {
  group: 'node.k8s.io', versions: ['v1'], kind: 'RuntimeClass', plural: 'runtimeclasses', singular: 'runtimeclass', namespaced: false,
  validate(o, old) {
    const out = [...validateMeta(o), ...dns1123Label('handler', o.handler)];
    if (old) out.push(...immutable('handler', o.handler, old.handler));
    return out;
  },
  columns: [nameColumn, column('Handler', 'string', 0, 'Handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.'), ageColumn],
  cells: (o, now) => [o.metadata.name, o.handler ?? '', age(o, now)],
};

export const nodeStrategies: ResourceStrategy[] = [runtimeclasses];
