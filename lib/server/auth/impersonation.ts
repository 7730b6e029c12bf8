// Impersonation (kubectl --as / --as-group): Impersonate-* headers switch the request's user when the real user may
// `impersonate` users, groups, serviceaccounts, uids and user extras.
import { ApiError } from '../../client/types.ts';
import { forbiddenStatus } from './status.ts';
import type { Attributes, Authorizer, UserInfo } from './types.ts';

/** The impersonated user, or undefined when the request carries no Impersonate-* header. Throws 403/400. */
export interface HeaderSource {
  get(name: string): string | null;
  keys(): Iterable<string>;
}

export async function impersonate(user: UserInfo, headers: HeaderSource, az: Authorizer): Promise<UserInfo | undefined> {
  const header = (n: string) => headers.get(n) ?? undefined;
  const name = header('impersonate-user');
  const groupsHeader = header('impersonate-group');
  const uid = header('impersonate-uid');
  const extraKeys = [...headers.keys()].map((k) => k.toLowerCase()).filter((k) => k.startsWith('impersonate-extra-'));
  if (name === undefined && groupsHeader === undefined && uid === undefined && !extraKeys.length) return undefined;
  if (name === undefined) throw new ApiError({ status: 'Failure', code: 400, reason: 'BadRequest', message: 'requested impersonation of groups, uid or extras without impersonating a user' });
  const groups = (groupsHeader ?? '').split(',').map((g) => g.trim()).filter(Boolean);
  const check = async (a: Omit<Attributes, 'user' | 'verb' | 'resourceRequest'>) => {
    const attrs: Attributes = { user, verb: 'impersonate', resourceRequest: true, ...a };
    const d = await az.authorize(attrs);
    if (d.decision !== 'allow') throw new ApiError(forbiddenStatus(attrs, d.reason) as never);
  };
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  if (sa) await check({ apiGroup: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] });
  else await check({ apiGroup: '', resource: 'users', name });
  for (const g of groups) await check({ apiGroup: '', resource: 'groups', name: g });
  if (uid !== undefined) await check({ apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid });
  const extra: Record<string, string[]> = {};
  for (const k of extraKeys) {
    const key = decodeURIComponent(k.slice('impersonate-extra-'.length));
    const values = (header(k) ?? '').split(',').map((v) => v.trim()).filter(Boolean);
    for (const v of values) await check({ apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v });
    extra[key] = values;
  }
  const all = [...groups];
  if (sa) all.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
  if (name !== 'system:anonymous' && !all.includes('system:authenticated')) all.push('system:authenticated');
  if (name === 'system:anonymous' && !all.includes('system:unauthenticated')) all.push('system:unauthenticated');
  return { username: name, uid, groups: all, extra: Object.keys(extra).length ? extra : undefined };
}
