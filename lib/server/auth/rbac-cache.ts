// RBAC objects kept in memory by list+watch through the client, as the RbacSource of the authorizer.
import type { Client, KubeObject, ResourceRef } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import type { RbacSource } from './rbac.ts';
import type { Authorizer, AuthzResult } from './types.ts';

const log = logger('server/auth/rbac-cache');

const rbac = (resource: string): ResourceRef => ({ group: 'rbac.authorization.k8s.io', version: 'v1', resource });
const REFS = { roles: rbac('roles'), clusterroles: rbac('clusterroles'), rolebindings: rbac('rolebindings'), clusterrolebindings: rbac('clusterrolebindings') };
type Kind = keyof typeof REFS;

const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class RbacCache implements RbacSource {
  readonly #client: Pick<Client, 'list' | 'watch'>;
  readonly #clock: Clock;
  readonly #maps: Record<Kind, Map<string, KubeObject>> = { roles: new Map(), clusterroles: new Map(), rolebindings: new Map(), clusterrolebindings: new Map() };
  readonly #synced: Record<Kind, boolean> = { roles: false, clusterroles: false, rolebindings: false, clusterrolebindings: false };
  readonly #listeners: ((kind: Kind) => void)[] = [];
  readonly ready: Promise<void>;
  #resolveReady!: () => void;

  constructor(client: Pick<Client, 'list' | 'watch'>, clock: Clock = realClock) {
    this.#client = client;
    this.#clock = clock;
    this.ready = new Promise((r) => (this.#resolveReady = r));
  }

  /** Called after each change, with the kind that changed. */
  onChange(fn: (kind: Kind) => void): void {
    this.#listeners.push(fn);
  }

  start(signal: AbortSignal): void {
    for (const kind of Object.keys(REFS) as Kind[]) void this.#run(kind, signal);
  }

  async #run(kind: Kind, signal: AbortSignal): Promise<void> {
    let delay = 200;
    while (!signal.aborted) {
      try {
        const list = await this.#client.list(REFS[kind]);
        const m = new Map(list.items.map((o) => [key(o), o]));
        this.#maps[kind] = m;
        this.#changed(kind, true);
        const w = await this.#client.watch(REFS[kind], { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true });
        const stop = () => w.close();
        signal.addEventListener('abort', stop, { once: true });
        delay = 200;
        try {
          for await (const ev of w) {
            if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.#maps[kind].set(key(ev.object), ev.object);
            else if (ev.type === 'DELETED') this.#maps[kind].delete(key(ev.object));
            else if (ev.type === 'ERROR') break;
            else continue;
            this.#changed(kind, false);
          }
        } finally {
          signal.removeEventListener('abort', stop);
        }
      } catch (err) {
        if (signal.aborted) return;
        log.warn('RBAC watch failed; relisting', { kind, err: String(err) });
        await this.#clock.sleep(delay, signal);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  #changed(kind: Kind, synced: boolean): void {
    if (synced && !this.#synced[kind]) {
      this.#synced[kind] = true;
      if (Object.values(this.#synced).every(Boolean)) this.#resolveReady();
    }
    for (const fn of this.#listeners) fn(kind);
  }

  clusterRoleBindings(): KubeObject[] {
    return [...this.#maps.clusterrolebindings.values()];
  }
  roleBindings(namespace: string): KubeObject[] {
    return [...this.#maps.rolebindings.values()].filter((b) => b.metadata.namespace === namespace);
  }
  clusterRole(name: string): KubeObject | undefined {
    return this.#maps.clusterroles.get(`/${name}`);
  }
  role(namespace: string, name: string): KubeObject | undefined {
    return this.#maps.roles.get(`${namespace}/${name}`);
  }
  clusterRoles(): KubeObject[] {
    return [...this.#maps.clusterroles.values()];
  }
}

/**
 * RBAC decisions remembered by user, groups and request attributes until any Role, ClusterRole or binding changes
 * (RbacAuthorizer walks every binding on each call). At most `max` decisions are kept, the oldest dropped first.
 */
export function cachedRbacAuthorizer(inner: Authorizer, source: Pick<RbacCache, 'onChange'>, max = 4096): Authorizer {
  const decisions = new Map<string, AuthzResult>();
  let generation = 0;
  source.onChange(() => { generation++; decisions.clear(); });
  return {
    async authorize(a) {
      const u = a.user;
      const key = [u.username, u.groups.join('\x01'), a.verb, a.resourceRequest ? 'r' : 'n', a.path ?? '', a.apiGroup ?? '', a.resource ?? '',
        a.subresource ?? '', a.namespace ?? '', a.name ?? ''].join('\0');
      const known = decisions.get(key);
      if (known) return known;
      const g = generation;
      const d = await inner.authorize(a);
      if (g !== generation) return d; // RBAC changed while deciding: the decision may be stale, don't keep it
      if (decisions.size >= max) decisions.delete(decisions.keys().next().value!);
      decisions.set(key, d);
      return d;
    },
  };
}
