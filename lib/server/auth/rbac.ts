// The RBAC authorizer: Role/ClusterRole rules reached through RoleBindings and ClusterRoleBindings.
import type { KubeObject } from '../../client/types.ts';
import type { Attributes, Authorizer, AuthzResult, UserInfo } from './types.ts';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

/** Read access to RBAC objects; an informer cache in the server, plain arrays in tests. */
export interface RbacSource {
  clusterRoleBindings(): KubeObject[];
  roleBindings(namespace: string): KubeObject[];
  clusterRole(name: string): KubeObject | undefined;
  role(namespace: string, name: string): KubeObject | undefined;
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

export function verbMatches(r: PolicyRule, verb: string): boolean {
  return has(r.verbs, verb);
}

export function resourceMatches(r: PolicyRule, resource: string, subresource?: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const rr of r.resources ?? []) {
    if (rr === '*' || rr === combined) return true;
    if (subresource && rr === `*/${subresource}`) return true;
  }
  return false;
}

export function nonResourceURLMatches(r: PolicyRule, path: string): boolean {
  for (const u of r.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(a: Omit<Attributes, 'user'>, r: PolicyRule): boolean {
  if (a.resourceRequest) {
    if (!verbMatches(r, a.verb) || !has(r.apiGroups, a.apiGroup ?? '') || !resourceMatches(r, a.resource ?? '', a.subresource)) return false;
    return !r.resourceNames?.length || (!!a.name && r.resourceNames.includes(a.name));
  }
  return verbMatches(r, a.verb) && nonResourceURLMatches(r, a.path ?? '');
}

export function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.username;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount':
      return user.username === `system:serviceaccount:${s.namespace || bindingNamespace}:${s.name}`;
    default:
      return false;
  }
}

function bindingRules(src: RbacSource, binding: KubeObject, namespace: string): PolicyRule[] {
  const ref = binding.roleRef as { kind: string; name: string } | undefined;
  if (!ref) return [];
  const role = ref.kind === 'ClusterRole' ? src.clusterRole(ref.name) : ref.kind === 'Role' && namespace ? src.role(namespace, ref.name) : undefined;
  return (role?.rules as PolicyRule[] | undefined) ?? [];
}

/** Every rule that applies to user in namespace ('' for cluster-scoped only), with the binding that grants it. */
export function* rulesFor(src: RbacSource, user: UserInfo, namespace: string): Generator<{ rule: PolicyRule; via: string }> {
  for (const b of src.clusterRoleBindings()) {
    if (!((b.subjects as Subject[] | undefined) ?? []).some((s) => subjectMatches(s, user, ''))) continue;
    for (const rule of bindingRules(src, b, '')) yield { rule, via: `ClusterRoleBinding "${b.metadata.name}"` };
  }
  if (!namespace) return;
  for (const b of src.roleBindings(namespace)) {
    if (!((b.subjects as Subject[] | undefined) ?? []).some((s) => subjectMatches(s, user, namespace))) continue;
    for (const rule of bindingRules(src, b, namespace)) yield { rule, via: `RoleBinding "${b.metadata.name}/${namespace}"` };
  }
}

export class RbacAuthorizer implements Authorizer {
  readonly #src: RbacSource;
  constructor(src: RbacSource) {
    this.#src = src;
  }
  async authorize(a: Attributes): Promise<AuthzResult> {
    const ns = a.resourceRequest ? (a.namespace ?? '') : '';
    for (const { rule, via } of rulesFor(this.#src, a.user, ns)) {
      if (ruleAllows(a, rule)) return { decision: 'allow', reason: `RBAC: allowed by ${via}` };
    }
    return { decision: 'noOpinion' };
  }
}

/** system:masters may do anything, even before any RBAC object exists. */
export const privilegedGroupAuthorizer: Authorizer = {
  async authorize(a) {
    return a.user.groups.includes('system:masters') ? { decision: 'allow' } : { decision: 'noOpinion' };
  },
};

/** First allow or deny wins. */
export function unionAuthorizer(list: Authorizer[]): Authorizer {
  return {
    async authorize(a) {
      const reasons: string[] = [];
      for (const az of list) {
        const r = await az.authorize(a);
        if (r.decision !== 'noOpinion') return r;
        if (r.reason) reasons.push(r.reason);
      }
      return { decision: 'noOpinion', reason: reasons.join('; ') || undefined };
    },
  };
}

/** Static arrays as an RbacSource (tests, SubjectAccessReview over a snapshot). */
export function staticRbacSource(objs: KubeObject[]): RbacSource {
  const of = (kind: string) => objs.filter((o) => o.kind === kind);
  return {
    clusterRoleBindings: () => of('ClusterRoleBinding'),
    roleBindings: (ns) => of('RoleBinding').filter((o) => o.metadata.namespace === ns),
    clusterRole: (name) => of('ClusterRole').find((o) => o.metadata.name === name),
    role: (ns, name) => of('Role').find((o) => o.metadata.namespace === ns && o.metadata.name === name),
  };
}
