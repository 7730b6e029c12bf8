// Built-in resources served by the API server. Add a strategy file and one line here to serve a new resource.
import { appsStrategies } from './apps.ts';
import { batchStrategies } from './batch.ts';
import { ResourceCatalog } from './catalog.ts';
import { coreConfig } from './core-config.ts';
import { coreMisc } from './core-misc.ts';
import { events } from './events.ts';
import { namespaces } from './namespaces.ts';
import { nodes } from './nodes.ts';
import { pods } from './pods.ts';
import { services } from './services.ts';
import type { ResourceStrategy } from './types.ts';

export const builtinStrategies: ResourceStrategy[] = [
  namespaces,
  pods,
  services,
  nodes,
  events,
  ...coreConfig, // configmaps, secrets, serviceaccounts, endpoints
  ...coreMisc, // limitranges, resourcequotas, persistentvolumes, persistentvolumeclaims, replicationcontrollers
  // Other groups (apps, batch, rbac, ...): one line each below.
  ...appsStrategies, // deployments, replicasets, daemonsets, statefulsets, controllerrevisions
  ...batchStrategies, // jobs, cronjobs
];

export function builtinCatalog(): ResourceCatalog {
  return new ResourceCatalog(builtinStrategies);
}
