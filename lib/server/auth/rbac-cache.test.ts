import t from 'tap';
import { cachedRbacAuthorizer } from './rbac-cache.ts';
import type { Attributes, Authorizer } from './types.ts';

const attrs = (verb: string, name?: string): Attributes => ({
  user: { username: 'alice', groups: ['dev', 'system:authenticated'] }, verb, resourceRequest: true, apiGroup: '', resource: 'pods', namespace: 'default', name,
});

t.test('RBAC decisions are cached per user and attributes until RBAC objects change', async (t) => {
  let calls = 0;
  let allow = true;
  const inner: Authorizer = { async authorize() { calls++; return { decision: allow ? 'allow' : 'noOpinion' }; } };
  const listeners: (() => void)[] = [];
  const az = cachedRbacAuthorizer(inner, { onChange: (fn) => listeners.push(() => fn('roles')) });
  t.equal((await az.authorize(attrs('get', 'a'))).decision, 'allow');
  t.equal((await az.authorize(attrs('get', 'a'))).decision, 'allow');
  t.equal(calls, 1, 'second identical request answered from the cache');
  await az.authorize(attrs('get', 'b'));
  await az.authorize({ ...attrs('get', 'a'), user: { username: 'alice', groups: ['system:authenticated'] } });
  t.equal(calls, 3, 'another name or other groups are other decisions');
  allow = false;
  for (const fn of listeners) fn();
  t.equal((await az.authorize(attrs('get', 'a'))).decision, 'noOpinion', 'a change drops every cached decision');
});

t.test('a decision made while RBAC changed is not kept', async (t) => {
  const listeners: (() => void)[] = [];
  let allow = true;
  const inner: Authorizer = {
    async authorize() {
      const d = { decision: allow ? 'allow' as const : 'noOpinion' as const };
      allow = false;
      for (const fn of listeners) fn(); // the RBAC cache changes before the caller stores the decision
      return d;
    },
  };
  const az = cachedRbacAuthorizer(inner, { onChange: (fn) => listeners.push(() => fn('roles')) });
  t.equal((await az.authorize(attrs('get'))).decision, 'allow');
  t.equal((await az.authorize(attrs('get'))).decision, 'noOpinion', 'asked again, not answered from a stale entry');
});

t.test('the cache is bounded', async (t) => {
  let calls = 0;
  const az = cachedRbacAuthorizer({ async authorize() { calls++; return { decision: 'allow' }; } }, { onChange: () => {} }, 2);
  await az.authorize(attrs('get', 'a'));
  await az.authorize(attrs('get', 'b'));
  await az.authorize(attrs('get', 'c'));
  await az.authorize(attrs('get', 'a'));
  t.equal(calls, 4, 'the oldest decision was dropped');
});
