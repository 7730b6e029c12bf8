// Test fixtures shared by the workload controllers' unit tests: listers preloaded from objects, a seeded
// FakeClient, and pod builders.
import { FakeClient } from '../client/fake.ts';
import type { KubeObject, ResourceRef } from '../client/types.ts';
import { Cache } from '../controller/cache.ts';

export function listerOf<T extends KubeObject>(objs: T[]): Cache<T> {
  const c = new Cache<T>();
  for (const o of objs) c.put(structuredClone(o));
  return c;
}

/** A FakeClient holding objs under ref (so writes against them succeed) and a lister with the same objects. */
export function seeded(pairs: [ResourceRef, KubeObject[]][]): { client: FakeClient; listers: Cache[] } {
  const client = new FakeClient();
  const listers: Cache[] = [];
  for (const [ref, objs] of pairs) {
    client.seed(ref, ...objs);
    listers.push(listerOf(client.objects(ref)));
  }
  return { client, listers };
}

export const readyCondition = (since = '2023-11-14T00:00:00Z') => ({ type: 'Ready', status: 'True', lastTransitionTime: since });

/** Compact action log: "verb resource[/sub] name". */
export const verbs = (c: FakeClient): string[] =>
  c.actions.map((a) => `${a.verb} ${a.resource}${a.subresource ? '/' + a.subresource : ''} ${a.verb === 'create' && a.object?.metadata.generateName ? a.object.metadata.generateName + '*' : a.name}`);
