// Generates the built-in OpenAPI definitions (lib/server/openapi/k8s-source.ts, from the npm package
// kubernetes-models) as gzip-compressed JSON.
//   node scripts/gen-openapi.ts [--out FILE]     (default: print sizes only)
// scripts/build-binary.ts embeds the result in the single executable as an asset; source runs and tests generate it
// on first use into node_modules/.cache/tsk-openapi/ (lib/server/openapi/definitions.ts), so nothing generated is
// committed.
import { writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DefinitionStore, generateCompressed } from '../lib/server/openapi/definitions.ts';

/** The definitions, gzip-compressed. */
export function genOpenApi(): Buffer {
  return generateCompressed();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const gz = genOpenApi();
  const i = process.argv.indexOf('--out');
  if (i > 0 && process.argv[i + 1]) writeFileSync(process.argv[i + 1]!, gz);
  const defs = new DefinitionStore(gunzipSync(gz).toString('utf8'));
  console.log(`${defs.source}: ${Object.keys(defs.kinds).length} kinds, ${defs.names().length} schemas, ${gz.length} bytes gzip`);
}
