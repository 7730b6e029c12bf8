// The registry package: construct one per server with createRegistry; hand `client` to controllers.
import type { Client } from '../../client/types.ts';
import { builtinCatalog } from '../resources/index.ts';
import { RegistryClient } from './client.ts';
import { Registry, type RegistryOptions } from './registry.ts';

export { Registry, type RegistryOptions, type UpdateResult, type DeleteResult } from './registry.ts';
export { RegistryClient } from './client.ts';
export type { Admit, AdmissionAttributes, WriteContext } from './admission.ts';

/** A registry over `store` serving the built-in resources (unless a catalog is given), with its in-process client. */
export function createRegistry(o: Omit<RegistryOptions, 'catalog'> & Partial<Pick<RegistryOptions, 'catalog'>>): { registry: Registry; client: Client } {
  const registry = new Registry({ ...o, catalog: o.catalog ?? builtinCatalog() });
  const client = new RegistryClient(registry);
  registry.client = client;
  return { registry, client };
}
