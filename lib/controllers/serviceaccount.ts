// ServiceAccount controller: every active namespace has a `default` ServiceAccount (recreated if deleted).
import { core, isAlreadyExists, isNotFound, type Client } from '../client/types.ts';
import type { Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import type { ControllerContext, Runnable } from './context.ts';

export const DEFAULT_SA = 'default';

export interface ServiceAccountDeps {
  client: Pick<Client, 'create'>;
  namespaces: Lister;
  serviceAccounts: Lister;
}

export async function reconcileServiceAccounts(d: ServiceAccountDeps, ns: string): Promise<void> {
  const n = d.namespaces.get(ns);
  if (!n || n.metadata.deletionTimestamp || n.status?.phase === 'Terminating') return;
  if (d.serviceAccounts.get(DEFAULT_SA, ns)) return;
  try {
    await d.client.create(core('serviceaccounts'), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SA, namespace: ns } }, ns);
  } catch (e) {
    if (!isAlreadyExists(e) && !isNotFound(e) && !String((e as Error).message).includes('terminat')) throw e;
  }
}

export function serviceAccountController(ctx: ControllerContext): Runnable & { controller: Controller } {
  const namespaces = ctx.factory.informer(core('namespaces'));
  const serviceAccounts = ctx.factory.informer(core('serviceaccounts'), { fieldSelector: `metadata.name=${DEFAULT_SA}` });
  const deps: ServiceAccountDeps = { client: ctx.client, namespaces: namespaces.lister, serviceAccounts: serviceAccounts.lister };
  const controller = new Controller({ name: 'serviceaccount', clock: ctx.clock, reconcile: (k) => reconcileServiceAccounts(deps, k) });
  namespaces.addHandler({ add: (n) => controller.enqueue(n.metadata.name!), update: (_o, n) => controller.enqueue(n.metadata.name!) });
  serviceAccounts.addHandler({ delete: (sa) => controller.enqueue(sa.metadata.namespace!) });
  return { controller, run: (signal) => controller.run(signal) };
}
