import t from 'tap';
import { apiResourceList } from '../api/discovery.ts';
import { buildDocuments } from '../openapi/index.ts';
import { ResourceCatalog } from '../resources/catalog.ts';
import { builtinStrategies } from '../resources/index.ts';
import { reviewStrategies } from './reviews.ts';

t.test('review kinds are in discovery (create only) with OpenAPI schemas that resolve', async (t) => {
  const catalog = new ResourceCatalog([...builtinStrategies, ...reviewStrategies]);
  t.same(apiResourceList(catalog, 'authentication.k8s.io', 'v1')!.resources.map((r) => [r.name, r.kind, r.namespaced, r.verbs]), [
    ['selfsubjectreviews', 'SelfSubjectReview', false, ['create']], ['tokenreviews', 'TokenReview', false, ['create']],
  ]);
  t.same(apiResourceList(catalog, 'authorization.k8s.io', 'v1')!.resources.map((r) => r.name), [
    'localsubjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'subjectaccessreviews',
  ]);
  for (const d of buildDocuments([...builtinStrategies, ...reviewStrategies]).filter((x) => /authentication|authorization\.k8s/.test(x.path))) {
    const schemas = JSON.parse(d.body).components.schemas;
    t.same([...d.body.matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!).filter((n) => !schemas[n]), [], `${d.path}: every $ref resolves`);
  }
});
