// Aggregated ClusterRoles (admin, edit, view, ...): their rules are the union of the rules of every ClusterRole
// their aggregationRule selects. Computed as a plan (pure) and applied through the client.
import { isAlreadyExists, isConflict, type Client, type KubeObject, type ResourceRef } from '../../client/types.ts';
import { logger } from '../../log/logger.ts';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.ts';
import type { PolicyRule } from './rbac.ts';

const log = logger('server/auth/rbac');

export const clusterRolesRef: ResourceRef = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' };
export const clusterRoleBindingsRef: ResourceRef = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings' };

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export function selectorMatches(sel: LabelSelector, labels: Record<string, string> = {}): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

const ruleKey = (r: PolicyRule) => JSON.stringify([r.verbs, r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);

/** For each aggregated ClusterRole, the rules it should have (to a fixpoint, so chains such as view→edit→admin resolve). */
export function aggregateRules(roles: KubeObject[]): Map<string, PolicyRule[]> {
  const rules = new Map<string, PolicyRule[]>(roles.map((r) => [r.metadata.name!, (r.rules as PolicyRule[] | undefined) ?? []]));
  const aggregatedRoles = roles.filter((r) => r.aggregationRule?.clusterRoleSelectors?.length);
  const out = new Map<string, PolicyRule[]>();
  for (let pass = 0; pass < 10; pass++) {
    let changed = false;
    for (const agg of aggregatedRoles) {
      const seen = new Set<string>();
      const next: PolicyRule[] = [];
      for (const sel of agg.aggregationRule.clusterRoleSelectors as LabelSelector[]) {
        for (const src of roles) {
          if (src.metadata.name === agg.metadata.name || !selectorMatches(sel, src.metadata.labels)) continue;
          for (const rule of rules.get(src.metadata.name!) ?? []) {
            const k = ruleKey(rule);
            if (!seen.has(k)) {
              seen.add(k);
              next.push(rule);
            }
          }
        }
      }
      const prev = rules.get(agg.metadata.name!) ?? [];
      if (JSON.stringify(prev.map(ruleKey)) !== JSON.stringify(next.map(ruleKey))) changed = true;
      rules.set(agg.metadata.name!, next);
      out.set(agg.metadata.name!, next);
    }
    if (!changed) break;
  }
  return out;
}

/** Writes the aggregated rules of every ClusterRole whose stored rules differ. */
export async function reconcileAggregation(client: Pick<Client, 'list' | 'update'>): Promise<number> {
  const list = await client.list(clusterRolesRef);
  const want = aggregateRules(list.items);
  let updated = 0;
  for (const role of list.items) {
    const rules = want.get(role.metadata.name!);
    if (!rules || JSON.stringify(role.rules ?? []) === JSON.stringify(rules)) continue;
    try {
      await client.update(clusterRolesRef, { ...role, rules });
      updated++;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
  return updated;
}

/** Creates the default ClusterRoles and ClusterRoleBindings that are missing, then aggregates. */
export async function ensureBootstrapPolicy(client: Pick<Client, 'list' | 'create' | 'update'>): Promise<void> {
  const roles = bootstrapClusterRoles();
  const existing = new Set((await client.list(clusterRolesRef)).items.map((r) => r.metadata.name));
  for (const role of roles) {
    if (existing.has(role.metadata.name)) continue;
    try {
      await client.create(clusterRolesRef, role);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  const bindings = new Set((await client.list(clusterRoleBindingsRef)).items.map((r) => r.metadata.name));
  for (const b of bootstrapClusterRoleBindings()) {
    if (bindings.has(b.metadata.name)) continue;
    try {
      await client.create(clusterRoleBindingsRef, b);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  const n = await reconcileAggregation(client);
  log.info('bootstrap RBAC policy in place', { aggregatedUpdated: n });
}
