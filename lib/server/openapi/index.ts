export { openApiRoutes, OpenApiCache, type StrategySource } from './routes.ts';
export { checkFieldValidation, unknownFields } from './field-validation.ts';
export { buildDocuments, buildOpenApi, indexDocument, kindSchemaName, gvPath, type StrategyWithSchema } from './documents.ts';
export { definitions, DefinitionStore } from './definitions.ts';
