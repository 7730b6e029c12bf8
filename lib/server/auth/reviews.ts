// authorization.k8s.io/v1 SelfSubjectAccessReview, SubjectAccessReview, SelfSubjectRulesReview and
// authentication.k8s.io/v1 SelfSubjectReview, TokenReview: what `kubectl auth can-i` and `kubectl auth whoami` call.
import type { KubeObject } from '../../client/types.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { nodeRules } from './bootstrap-policy.ts';
import { nodeNameOf } from './node-authorizer.ts';
import { rulesFor, type PolicyRule, type RbacSource } from './rbac.ts';
import type { Attributes, Authenticator, Authorizer, UserInfo } from './types.ts';

interface ReviewSpec {
  resourceAttributes?: { namespace?: string; verb?: string; group?: string; version?: string; resource?: string; subresource?: string; name?: string };
  nonResourceAttributes?: { path?: string; verb?: string };
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

function attributesFor(user: UserInfo, spec: ReviewSpec): Attributes {
  const r = spec.resourceAttributes;
  if (r) {
    return {
      user,
      verb: r.verb ?? '',
      resourceRequest: true,
      apiGroup: r.group ?? '',
      apiVersion: r.version,
      namespace: r.namespace || undefined,
      resource: r.resource ?? '',
      subresource: r.subresource || undefined,
      name: r.name || undefined,
    };
  }
  const n = spec.nonResourceAttributes ?? {};
  return { user, verb: n.verb ?? '', resourceRequest: false, path: n.path ?? '' };
}

async function review(kind: string, body: KubeObject, user: UserInfo, az: Authorizer): Promise<KubeObject> {
  const spec = (body.spec ?? {}) as ReviewSpec;
  const r = await az.authorize(attributesFor(user, spec));
  const status: Record<string, unknown> = { allowed: r.decision === 'allow' };
  if (r.decision === 'deny') status.denied = true;
  if (r.reason) status.reason = r.reason;
  return { kind, apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null, ...(body.metadata ?? {}) } as never, spec, status };
}

export function selfSubjectAccessReview(user: UserInfo, body: KubeObject, az: Authorizer): Promise<KubeObject> {
  return review('SelfSubjectAccessReview', body, user, az);
}

/** Same as self, for a namespace: spec.resourceAttributes.namespace must equal the URL's namespace. */
export function localSubjectAccessReview(body: KubeObject, az: Authorizer): Promise<KubeObject> {
  const spec = (body.spec ?? {}) as ReviewSpec;
  return review('LocalSubjectAccessReview', body, { username: spec.user ?? '', uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra }, az);
}

export function subjectAccessReview(body: KubeObject, az: Authorizer): Promise<KubeObject> {
  const spec = (body.spec ?? {}) as ReviewSpec;
  return review('SubjectAccessReview', body, { username: spec.user ?? '', uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra }, az);
}

export function selfSubjectRulesReview(user: UserInfo, body: KubeObject, src: RbacSource): KubeObject {
  const namespace = (body.spec?.namespace as string | undefined) ?? '';
  const resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[] = [];
  const nonResourceRules: { verbs: string[]; nonResourceURLs: string[] }[] = [];
  const add = (rule: PolicyRule) => {
    if (rule.nonResourceURLs?.length) nonResourceRules.push({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs });
    else {
      const rr: (typeof resourceRules)[number] = { verbs: rule.verbs, apiGroups: rule.apiGroups ?? [], resources: rule.resources ?? [] };
      if (rule.resourceNames?.length) rr.resourceNames = rule.resourceNames;
      resourceRules.push(rr);
    }
  };
  if (user.groups.includes('system:masters')) add({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
  if (nodeNameOf(user)) nodeRules.forEach(add);
  for (const { rule } of rulesFor(src, user, namespace)) add(rule);
  return {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null } as never,
    spec: { namespace },
    status: { resourceRules, nonResourceRules, incomplete: false },
  };
}

function userInfoJson(u: UserInfo) {
  const out: Record<string, unknown> = { username: u.username, groups: u.groups };
  if (u.uid) out.uid = u.uid;
  if (u.extra && Object.keys(u.extra).length) out.extra = u.extra;
  return out;
}

export function selfSubjectReview(user: UserInfo): KubeObject {
  return { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null } as never, status: { userInfo: userInfoJson(user) } };
}

export async function tokenReview(body: KubeObject, chain: Authenticator[]): Promise<KubeObject> {
  const token = String(body.spec?.token ?? '');
  let status: Record<string, unknown> = { authenticated: false, error: 'invalid bearer token' };
  for (const a of chain) {
    const r = await a.authenticate({ path: '/', header: (n) => (n === 'authorization' ? `Bearer ${token}` : undefined) });
    if (!r) continue;
    status = 'error' in r ? { authenticated: false, error: r.error } : { authenticated: true, user: userInfoJson(r.user), audiences: body.spec?.audiences ?? [] };
    break;
  }
  return { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null } as never, spec: body.spec ?? {}, status };
}

const reviewKind = (group: string, kind: string, namespaced = false): ResourceStrategy => ({
  group, versions: ['v1'], kind, plural: `${kind.toLowerCase()}s`, singular: kind.toLowerCase(), namespaced, verbs: ['create'],
});

/**
 * The review kinds in discovery (kubectl api-resources / api-versions list authentication.k8s.io and
 * authorization.k8s.io, create only). Security.routes answers their POSTs before the generic resource handlers.
 */
export const reviewStrategies: ResourceStrategy[] = [
  reviewKind('authentication.k8s.io', 'SelfSubjectReview'), reviewKind('authentication.k8s.io', 'TokenReview'),
  reviewKind('authorization.k8s.io', 'LocalSubjectAccessReview', true), reviewKind('authorization.k8s.io', 'SelfSubjectAccessReview'),
  reviewKind('authorization.k8s.io', 'SelfSubjectRulesReview'), reviewKind('authorization.k8s.io', 'SubjectAccessReview'),
];
