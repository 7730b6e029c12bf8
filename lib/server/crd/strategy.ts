// The strategy serving the custom resources of one CustomResourceDefinition: names and scope from spec.names and
// spec.scope, the storage version first, status/scale subresources, pruning + defaulting + validation from the
// structural schema, Table columns from additionalPrinterColumns.
import type { KubeObject } from '../../client/types.ts';
import { sortVersions } from '../resources/catalog.ts';
import { age, ageColumn, column, humanDuration, nameColumn } from '../resources/table.ts';
import type { ColumnDefinition, ResourceStrategy, SubresourceSpec } from '../resources/types.ts';
import { validateMeta } from '../resources/validation.ts';
import type { StrategyWithSchema } from '../openapi/documents.ts';
import { dottedPath, evalJsonPath, parseJsonPath } from './jsonpath.ts';
import { applyDefaults, prune, validateSchema, type JSONSchemaProps } from './schema.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: JSONSchemaProps };
  subresources?: { status?: object; scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } };
  additionalPrinterColumns?: { name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }[];
}

export type CustomResourceStrategy = ResourceStrategy & StrategyWithSchema & { crdName: string };

/** The storage version of a CRD. */
export function storageVersion(crd: Obj): CrdVersion | undefined {
  return (crd.spec?.versions ?? []).find((v: CrdVersion) => v.storage);
}

function printerColumns(v: CrdVersion): { columns: ColumnDefinition[]; cells: (o: KubeObject, now: number) => unknown[] } {
  const defs = v.additionalPrinterColumns;
  if (!defs?.length) return { columns: [nameColumn, ageColumn], cells: (o, now) => [o.metadata.name, age(o, now)] };
  const parsed = defs.map((d) => {
    try { return parseJsonPath(d.jsonPath); } catch { return undefined; }
  });
  const TYPES = new Set(['string', 'integer', 'number', 'boolean', 'date']);
  const columns = [nameColumn, ...defs.map((d) => column(d.name, (TYPES.has(d.type) ? d.type : 'string') as ColumnDefinition['type'], d.priority ?? 0, d.description ?? '', d.format ?? ''))];
  const cells = (o: KubeObject, now: number) => [o.metadata.name, ...defs.map((d, i) => {
    const steps = parsed[i];
    if (!steps) return null;
    const vals = evalJsonPath(o, steps);
    if (!vals.length) return null;
    const v = vals.length === 1 ? vals[0] : vals.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',');
    if (d.type === 'date' && typeof v === 'string') {
      const t = Date.parse(v);
      return Number.isNaN(t) ? v : humanDuration(now - t);
    }
    if (typeof v === 'object' && v !== null) return JSON.stringify(v);
    return v;
  })];
  return { columns, cells };
}

/** Builds the strategy for a CRD (served versions, storage version first). */
export function customResourceStrategy(crd: Obj): CustomResourceStrategy {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  const all: CrdVersion[] = spec.versions ?? [];
  const storage = storageVersion(crd) ?? all[0]!;
  const served = all.filter((v) => v.served).map((v) => v.name);
  const versions = [storage.name, ...sortVersions(served.filter((v) => v !== storage.name))];
  const byName = new Map(all.map((v) => [v.name, v]));
  const schemaOf = (v: string): JSONSchemaProps | undefined => byName.get(v)?.schema?.openAPIV3Schema;
  const sub = storage.subresources ?? {};
  const subresources: SubresourceSpec[] = [];
  if (sub.status) subresources.push({ name: 'status', verbs: ['get', 'patch', 'update'] });
  if (sub.scale) subresources.push({ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] });
  const table = printerColumns(storage);
  const s: CustomResourceStrategy = {
    crdName: crd.metadata?.name ?? '',
    group: spec.group,
    versions,
    kind: names.kind,
    plural: names.plural,
    singular: names.singular ?? String(names.kind ?? '').toLowerCase(),
    shortNames: names.shortNames,
    categories: names.categories,
    namespaced: spec.scope !== 'Cluster',
    custom: true,
    subresources,
    defaults(obj) {
      const schema = schemaOf(storage.name);
      if (!schema) return;
      if (!schema['x-kubernetes-preserve-unknown-fields']) prune(obj, schema, true);
      applyDefaults(obj, schema);
    },
    validate(obj) {
      const out = validateMeta(obj);
      out.push(...validateSchema(obj, schemaOf(storage.name), '', true));
      return out;
    },
    columns: table.columns,
    cells: table.cells,
    openAPISchema: (v: string) => schemaOf(v),
  };
  if (sub.scale) {
    s.scale = {
      specReplicasPath: dottedPath(sub.scale.specReplicasPath),
      statusReplicasPath: dottedPath(sub.scale.statusReplicasPath),
      labelSelectorPath: sub.scale.labelSelectorPath ? dottedPath(sub.scale.labelSelectorPath) : undefined,
    };
  }
  return s;
}
