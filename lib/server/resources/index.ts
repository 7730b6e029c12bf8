// Built-in resources served by the API server. Add a strategy file and one line here to serve a new resource.
import { admissionregistrationStrategies } from './admissionregistration.ts';
import { apiextensionsStrategies } from './apiextensions.ts';
import { apiregistrationStrategies } from './apiregistration.ts';
import { appsStrategies } from './apps.ts';
import { autoscalingStrategies } from './autoscaling.ts';
import { batchStrategies } from './batch.ts';
import { certificatesStrategies } from './certificates.ts';
import { ResourceCatalog } from './catalog.ts';
import { coreConfig } from './core-config.ts';
import { coordinationStrategies } from './coordination.ts';
import { coreMisc } from './core-misc.ts';
import { discoveryStrategies } from './discovery.ts';
import { events } from './events.ts';
import { eventsV1 } from './events-v1.ts';
import { namespaces } from './namespaces.ts';
import { networkingStrategies } from './networking.ts';
import { nodeStrategies } from './node.ts';
import { nodes } from './nodes.ts';
import { pods } from './pods.ts';
import { policyStrategies } from './policy.ts';
import { rbacStrategies } from './rbac.ts';
import { schedulingStrategies } from './scheduling.ts';
import { services } from './services.ts';
import { storageStrategies } from './storage.ts';
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
  ...autoscalingStrategies, // horizontalpodautoscalers (v2 storage, v1 served)
  ...coordinationStrategies, // leases
  ...discoveryStrategies, // endpointslices
  ...rbacStrategies, // roles, clusterroles, rolebindings, clusterrolebindings
  ...policyStrategies, // poddisruptionbudgets
  ...certificatesStrategies, // certificatesigningrequests (signed by lib/controllers/csr-signing.ts)
  ...networkingStrategies, // ingresses, ingressclasses, networkpolicies
  ...storageStrategies, // storageclasses, csidrivers, csinodes, volumeattachments
  eventsV1, // events.k8s.io/v1 events: core/v1 events converted
  ...schedulingStrategies, // priorityclasses (systemPriorityClasses for the bootstrap)
  ...nodeStrategies, // runtimeclasses
  ...admissionregistrationStrategies, // validating/mutating webhook configurations (stored, not called)
  ...apiregistrationStrategies, // apiservices (stored, not proxied)
  ...apiextensionsStrategies, // customresourcedefinitions (custom resources: lib/server/crd/controller.ts)
];

export function builtinCatalog(): ResourceCatalog {
  return new ResourceCatalog(builtinStrategies);
}
