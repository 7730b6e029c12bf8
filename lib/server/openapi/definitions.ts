// The built-in schemas at run time. They are generated from the npm package kubernetes-models (k8s-source.ts) and
// held gzip-compressed: the bundle (so the single executable) embeds them as a base64 constant that
// scripts/bundle.ts defines at build time; a source checkout generates them on first use into
// node_modules/.cache/tsk-openapi/ (keyed by the package version and the generator's own source). The parsed form
// kept in memory is structure only (no descriptions): enough for field validation. Documents re-read the full form
// when they are rebuilt, then drop it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { logger } from '../../log/logger.ts';
import { generateDefinitions, sourcePackageDir, type Definitions, type Schema } from './k8s-source.ts';

export type { Definitions, Schema } from './k8s-source.ts';

const log = logger('openapi');
const here = dirname(fileURLToPath(import.meta.url));

// Replaced by esbuild in the bundle (scripts/bundle.ts); undeclared in a source run.
declare const __TSK_OPENAPI_GZ__: string | undefined;

let compressed: Buffer | undefined;
let structure: Definitions | undefined;

function embedded(): Buffer | undefined {
  return typeof __TSK_OPENAPI_GZ__ === 'string' ? Buffer.from(__TSK_OPENAPI_GZ__, 'base64') : undefined;
}

/** Every stable (GA) group-version the source package has: the documents pick the served ones. */
function stableGroupVersions(root: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(root, { withFileTypes: true })) {
    if (!d.isDirectory() || d.name.startsWith('_')) continue;
    if (/^v\d+$/.test(d.name)) out.push(d.name);
    else for (const v of readdirSync(join(root, d.name))) if (/^v\d+$/.test(v)) out.push(`${d.name}/${v}`);
  }
  return out.sort();
}

/** Generates the definitions from the installed source package, gzip-compressed (scripts/gen-openapi.ts). */
export function generateCompressed(): Buffer {
  const root = sourcePackageDir();
  if (!root) throw new Error('the npm package kubernetes-models is not installed (a devDependency: run npm ci)');
  return gzipSync(JSON.stringify(generateDefinitions(stableGroupVersions(root), root)), { level: 9 });
}

function cacheFile(): string | undefined {
  const root = join(here, '../../..');
  const pkg = join(root, 'node_modules/kubernetes-models/package.json');
  if (!existsSync(pkg)) return undefined;
  const h = createHash('sha256').update(readFileSync(pkg));
  for (const f of ['k8s-source.ts', 'patch-extensions.ts', 'definitions.ts']) if (existsSync(join(here, f))) h.update(readFileSync(join(here, f)));
  return join(root, 'node_modules/.cache/tsk-openapi', `${h.digest('hex').slice(0, 16)}.json.gz`);
}

/** The gzip-compressed definitions JSON (embedded, cached, or generated now). Empty definitions when none exist. */
export function definitionsBuffer(): Buffer {
  if (compressed) return compressed;
  compressed = embedded();
  if (compressed) return compressed;
  const file = cacheFile();
  if (file && existsSync(file)) return (compressed = readFileSync(file));
  if (file) {
    compressed = generateCompressed();
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.${process.pid}.tmp`, compressed);
      renameSync(`${file}.${process.pid}.tmp`, file);
    } catch (err) {
      log.warn('cannot cache the generated OpenAPI definitions', { err: String(err) });
    }
    return compressed;
  }
  log.warn('no built-in OpenAPI definitions (run npm ci, or build with npm run build): schemas stay open');
  return (compressed = gzipSync(JSON.stringify({ source: 'none', kinds: {}, schemas: {} })));
}

/** The full definitions (with descriptions), parsed anew: callers use them and let them go. */
export function fullDefinitions(): Definitions {
  return JSON.parse(gunzipSync(definitionsBuffer()).toString('utf8')) as Definitions;
}

/** The definitions without descriptions, parsed once and kept (field validation). */
export function structureDefinitions(): Definitions {
  if (structure) return structure;
  structure = JSON.parse(gunzipSync(definitionsBuffer()).toString('utf8'), (k, v: unknown) => (k === 'description' && typeof v === 'string' ? undefined : v)) as Definitions;
  return structure;
}

/** Test hook: forget the loaded definitions. */
export function resetDefinitions(): void {
  compressed = undefined;
  structure = undefined;
}

export function isSchema(v: unknown): v is Schema {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
