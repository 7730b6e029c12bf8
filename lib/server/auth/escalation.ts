// RBAC escalation prevention: a user may create or update a Role/ClusterRole only with rules they already hold
// (or the `escalate` verb), and bind a role only when they hold its rules (or the `bind` verb on it).
import type { KubeObject } from '../../client/types.ts';
import type { PolicyRule } from './rbac.ts';
import type { Attributes, Authorizer, UserInfo } from './types.ts';

/** Every rule of `rules` the user does not hold in `namespace` ('' = cluster-wide). */
export async function missingRules(az: Authorizer, user: UserInfo, namespace: string, rules: PolicyRule[]): Promise<PolicyRule[]> {
  const missing: PolicyRule[] = [];
  for (const rule of rules) {
    let ok = true;
    const check = async (a: Omit<Attributes, 'user'>) => {
      if (ok && (await az.authorize({ user, ...a })).decision !== 'allow') ok = false;
    };
    for (const verb of rule.verbs ?? []) {
      if (rule.nonResourceURLs?.length) {
        for (const path of rule.nonResourceURLs) await check({ verb, resourceRequest: false, path });
        continue;
      }
      for (const apiGroup of rule.apiGroups ?? []) {
        for (const res of rule.resources ?? []) {
          const [resource, subresource] = res.split('/', 2) as [string, string | undefined];
          const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
          for (const name of names) await check({ verb, resourceRequest: true, apiGroup, resource, subresource, name, namespace: namespace || undefined });
        }
      }
    }
    if (!ok) missing.push(rule);
  }
  return missing;
}

function describe(rules: PolicyRule[]): string {
  return rules
    .map((r) => (r.nonResourceURLs?.length
      ? `{NonResourceURLs:${JSON.stringify(r.nonResourceURLs)}, Verbs:${JSON.stringify(r.verbs)}}`
      : `{APIGroups:${JSON.stringify(r.apiGroups ?? [])}, Resources:${JSON.stringify(r.resources ?? [])}${r.resourceNames?.length ? `, ResourceNames:${JSON.stringify(r.resourceNames)}` : ''}, Verbs:${JSON.stringify(r.verbs)}}`))
    .join('\n');
}

export interface EscalationInput {
  user: UserInfo;
  resource: string;
  namespace?: string;
  object?: KubeObject;
  /** Rules of the role a binding references (undefined when the role does not exist). */
  roleRules?(kind: string, name: string, namespace: string): PolicyRule[] | undefined;
}

/** The refusal message, or undefined when the write may go ahead. */
export async function checkEscalation(az: Authorizer, i: EscalationInput): Promise<string | undefined> {
  const obj = i.object;
  if (!obj) return undefined;
  const ns = i.namespace ?? '';
  const who = `user ${JSON.stringify(i.user.username)} (groups=[${i.user.groups.map((g) => JSON.stringify(g)).join(' ')}])`;
  const allowed = async (verb: string, resource: string, name: string) =>
    (await az.authorize({ user: i.user, verb, resourceRequest: true, apiGroup: 'rbac.authorization.k8s.io', resource, name, namespace: ns || undefined })).decision === 'allow';
  if (i.resource === 'roles' || i.resource === 'clusterroles') {
    if (await allowed('escalate', i.resource, obj.metadata.name ?? '')) return undefined;
    const missing = await missingRules(az, i.user, ns, (obj.rules as PolicyRule[] | undefined) ?? []);
    return missing.length ? `${who} is attempting to grant RBAC permissions not currently held:\n${describe(missing)}` : undefined;
  }
  if (i.resource === 'rolebindings' || i.resource === 'clusterrolebindings') {
    const ref = obj.roleRef as { kind?: string; name?: string } | undefined;
    if (!ref?.name || !ref.kind) return undefined; // validation reports it
    const refResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
    if (await allowed('bind', refResource, ref.name)) return undefined;
    const rules = i.roleRules?.(ref.kind, ref.name, ns);
    if (!rules) return `${who} is attempting to bind ${ref.kind} ${JSON.stringify(ref.name)}, which does not exist, without the bind permission`;
    const missing = await missingRules(az, i.user, ns, rules);
    return missing.length ? `${who} is attempting to grant RBAC permissions not currently held:\n${describe(missing)}` : undefined;
  }
  return undefined;
}
