// The admission plugins tsk adds to the security layer's chain, in Kubernetes' order: LimitRanger (mutating, then
// validating), PodSecurity, Priority (priority.ts), RuntimeClass (runtimeclass.ts), ResourceQuota (last, so it accounts what the others defaulted). NamespaceLifecycle lives
// in the registry (#checkNamespaceActive); ServiceAccount and DefaultTolerationSeconds in the pod strategy's
// defaults; NodeRestriction in lib/server/auth/security.ts.
import { isNotFound, type Client, type KubeObject } from '../../client/types.ts';
import type { Admit, AdmissionAttributes } from '../registry/admission.ts';
import { forbiddenError } from './errors.ts';
import { logger } from '../../log/logger.ts';
import { aggregate, applyLimitRangeDefaults, limitRangeViolations, pvcViolations } from './limitranger.ts';
import { checkPod, evaluatePodSecurity, namespacePolicies } from './podsecurity.ts';
import { priorityAdmission } from './priority.ts';
import { runtimeClassAdmission } from './runtimeclass.ts';
import { countedResource, quotaSelects, quotaViolation, usageFor, usageOf, type Usage } from './quota.ts';
import { addWarning } from './warnings.ts';

const log = logger('server/admission');
const core = (resource: string) => ({ group: '', version: 'v1', resource });

/** What the plugins read; the in-process client over the registry in production, fakes in unit tests. */
export interface AdmissionLookup {
  namespace(name: string): Promise<KubeObject | undefined>;
  list(ref: { group: string; version?: string; resource: string }, namespace: string): Promise<KubeObject[]>;
  /** The served version of a group/resource (for count/<resource>.<group> quotas); default v1. */
  versionOf?(group: string, resource: string): string | undefined;
}

export function clientLookup(client: Client, versionOf?: AdmissionLookup['versionOf']): AdmissionLookup {
  return {
    async namespace(name) {
      try {
        return await client.get(core('namespaces'), name);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    async list(ref, namespace) {
      const version = ref.version ?? versionOf?.(ref.group, ref.resource) ?? 'v1';
      return (await client.list({ group: ref.group, version, resource: ref.resource }, { namespace })).items;
    },
    versionOf,
  };
}

const isPods = (a: AdmissionAttributes) => !a.group && a.resource === 'pods' && !a.subresource;

export async function limitRanger(look: AdmissionLookup, a: AdmissionAttributes): Promise<void> {
  if (a.operation !== 'CREATE' || !a.namespace || !a.object || a.subresource || a.group) return;
  if (a.resource !== 'pods' && a.resource !== 'persistentvolumeclaims') return;
  const ranges = await look.list(core('limitranges'), a.namespace);
  if (!ranges.length) return;
  let v: string[];
  if (a.resource === 'pods') {
    applyLimitRangeDefaults(a.object, ranges);
    v = limitRangeViolations(a.object, ranges);
  } else v = pvcViolations(a.object, ranges);
  if (v.length) throw forbiddenError(a, aggregate(v));
}

export async function podSecurity(look: AdmissionLookup, a: AdmissionAttributes): Promise<void> {
  if (!a.group && a.resource === 'namespaces' && a.operation === 'UPDATE' && a.object && !a.subresource) {
    for (const w of await namespaceLabelWarnings(look, a.object, a.oldObject)) addWarning(w);
    return;
  }
  if ((a.operation !== 'CREATE' && a.operation !== 'UPDATE') || !a.namespace || !a.object || a.subresource) return;
  if (a.operation === 'UPDATE' && JSON.stringify(a.object.spec) === JSON.stringify(a.oldObject?.spec)) return;
  const r = evaluatePodSecurity(namespacePolicies(await look.namespace(a.namespace)), { resource: a.resource, group: a.group, object: a.object });
  for (const w of r.warnings) addWarning(w);
  for (const x of r.audit) log.info('pod security audit', { namespace: a.namespace, resource: a.resource, name: a.name, violation: x });
  if (r.deny) throw forbiddenError(a, r.deny);
}

/** Warnings when a namespace's enforce level tightens: which existing pods would violate it (as Kubernetes). */
export async function namespaceLabelWarnings(look: AdmissionLookup, ns: KubeObject, old: KubeObject | undefined): Promise<string[]> {
  const now = namespacePolicies(ns).find((p) => p.mode === 'enforce');
  const before = namespacePolicies(old).find((p) => p.mode === 'enforce');
  if (!now || (before && before.level === now.level && before.version === now.version)) return [];
  const out: string[] = [];
  for (const pod of await look.list(core('pods'), ns.metadata.name!)) {
    const v = checkPod(now.level, pod.spec ?? {}, pod.metadata);
    if (v.length) out.push(`${pod.metadata.name}: ${v.map((x) => x.replace(/ \(.*$/, '')).join(', ')}`);
  }
  return out.length ? [`existing pods in namespace ${JSON.stringify(ns.metadata.name)} violate the new PodSecurity enforce level "${now.level}:${now.version}"`, ...out] : [];
}

export async function resourceQuota(look: AdmissionLookup, a: AdmissionAttributes): Promise<void> {
  if (a.operation !== 'CREATE' || !a.namespace || !a.object || a.subresource) return; // dry runs are checked too
  const quotas = await look.list(core('resourcequotas'), a.namespace);
  if (!quotas.length) return;
  const ref = { group: a.group, resource: a.resource };
  const requested: Usage = usageOf(ref, a.object);
  const keys = Object.keys(requested);
  if (!keys.length) return;
  let current: KubeObject[] | undefined;
  for (const q of quotas) {
    const hard = q.spec?.hard ?? {};
    if (!quotaSelects(q, ref, a.object)) continue;
    if (!keys.some((k) => k in hard) && !(isPods(a) && Object.keys(hard).some((k) => countedResource(k)?.resource === 'pods' && !countedResource(k)?.group))) continue;
    current ??= await look.list({ group: a.group, version: a.version, resource: a.resource }, a.namespace);
    const used = usageFor(ref, current.filter((o) => quotaSelects(q, ref, o)), Object.keys(hard));
    const why = quotaViolation(q, requested, used, a.object, { group: a.group, version: a.version, resource: a.resource });
    if (why) throw forbiddenError(a, why);
  }
}

/** The chain the security layer runs before its own checks. */
export function admissionPlugins(look: AdmissionLookup): Admit {
  return async (a) => {
    await limitRanger(look, a);
    await podSecurity(look, a);
    await priorityAdmission(look, a);
    await runtimeClassAdmission(look, a);
    await resourceQuota(look, a);
  };
}
