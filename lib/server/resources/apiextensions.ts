// apiextensions.k8s.io/v1 CustomResourceDefinition. The CRD controller (lib/server/crd/controller.ts) serves the
// custom resources once a CRD is stored and marks it Established; deletion waits on the cleanup finalizer.
import { structuralProblems } from '../crd/schema.ts';
import { column, nameColumn } from './table.ts';
import type { ResourceStrategy, StatusCause } from './types.ts';
import { dns1035Label, dns1123Label, dns1123Subdomain, immutable, invalid, notSupported, required, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

function validateSpec(o: Obj, old: Obj | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  const s: Obj = o.spec ?? {};
  const n: Obj = s.names ?? {};
  if (!s.group) out.push(required('spec.group'));
  else {
    out.push(...dns1123Subdomain('spec.group', s.group));
    if (!String(s.group).includes('.')) out.push(invalid('spec.group', s.group, 'should be a domain with at least one dot'));
  }
  if (!n.plural) out.push(required('spec.names.plural'));
  else out.push(...dns1123Label('spec.names.plural', n.plural));
  if (n.singular) out.push(...dns1123Label('spec.names.singular', n.singular));
  if (!n.kind) out.push(required('spec.names.kind'));
  if (!n.listKind) out.push(required('spec.names.listKind'));
  for (const sn of n.shortNames ?? []) out.push(...dns1123Label('spec.names.shortNames', sn));
  if (s.group && n.plural && o.metadata?.name !== `${n.plural}.${s.group}`) {
    out.push(invalid('metadata.name', o.metadata?.name, `must be spec.names.plural+"."+spec.group`));
  }
  if (!['Namespaced', 'Cluster'].includes(s.scope)) out.push(notSupported('spec.scope', s.scope ?? '', ['Cluster', 'Namespaced']));
  const versions: Obj[] = s.versions ?? [];
  if (!versions.length) out.push(required('spec.versions', 'must have exactly one version marked as storage version'));
  const storage = versions.filter((v) => v.storage);
  if (versions.length && storage.length !== 1) out.push(invalid('spec.versions', versions.map((v) => v.name), 'must have exactly one version marked as storage version'));
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    out.push(...dns1035Label(`${p}.name`, v.name));
    if (seen.has(v.name)) out.push({ field: `${p}.name`, reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(v.name)}` });
    seen.add(v.name);
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) out.push(required(`${p}.schema.openAPIV3Schema`, 'schemas are required'));
    else {
      if (schema.type !== 'object') out.push(invalid(`${p}.schema.openAPIV3Schema.type`, schema.type ?? '', 'must be object at the root'));
      out.push(...structuralProblems(schema, `${p}.schema.openAPIV3Schema`));
    }
    for (const c of v.additionalPrinterColumns ?? []) {
      if (!c.name) out.push(required(`${p}.additionalPrinterColumns.name`));
      if (!c.jsonPath) out.push(required(`${p}.additionalPrinterColumns.jsonPath`));
      if (!['integer', 'number', 'string', 'boolean', 'date'].includes(c.type)) out.push(notSupported(`${p}.additionalPrinterColumns.type`, c.type ?? '', ['integer', 'number', 'string', 'boolean', 'date']));
    }
    const sc = v.subresources?.scale;
    if (sc && (!sc.specReplicasPath || !sc.statusReplicasPath)) out.push(required(`${p}.subresources.scale`, 'specReplicasPath and statusReplicasPath are required'));
  });
  if (versions.length && !versions.some((v) => v.served)) out.push(invalid('spec.versions', versions.map((v) => v.name), 'must have at least one served version'));
  if (old) {
    out.push(...immutable('spec.group', s.group, old.spec?.group));
    out.push(...immutable('spec.scope', s.scope, old.spec?.scope));
    const stored: string[] = old.status?.storedVersions ?? [];
    for (const sv of stored) if (!versions.some((v) => v.name === sv)) out.push(invalid('status.storedVersions', stored, `must appear in spec.versions: ${sv}`));
  }
  return out;
}

export const customresourcedefinitions: ResourceStrategy = {
  group: 'apiextensions.k8s.io', versions: ['v1'], kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', singular: 'customresourcedefinition',
  shortNames: ['crd', 'crds'], categories: ['api-extensions'], namespaced: false,
  subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }],
  defaults(o) {
    const s = (o.spec ??= {});
    const n = (s.names ??= {});
    if (n.kind) {
      n.singular ??= String(n.kind).toLowerCase();
      n.listKind ??= `${n.kind}List`;
    }
    s.conversion ??= { strategy: 'None' };
  },
  validate(o, old) {
    return [...validateMeta(o), ...validateSpec(o, old)];
  },
  prepareForCreate(o) {
    const f = o.metadata.finalizers ?? [];
    if (!f.includes(CRD_CLEANUP_FINALIZER)) o.metadata.finalizers = [...f, CRD_CLEANUP_FINALIZER];
    o.status = { conditions: [], acceptedNames: { plural: '', kind: '' }, storedVersions: [] };
  },
  columns: [nameColumn, column('Created At', 'date', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created.')],
  cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ''],
};

export const apiextensionsStrategies: ResourceStrategy[] = [customresourcedefinitions];
