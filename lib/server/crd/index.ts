export { CrdController, startCrdController, CRD_REF, type CrdControllerOptions, type DynamicCatalog } from './controller.ts';
export { customResourceStrategy, storageVersion, type CustomResourceStrategy } from './strategy.ts';
export { applyDefaults, prune, validateSchema, type JSONSchemaProps } from './schema.ts';
