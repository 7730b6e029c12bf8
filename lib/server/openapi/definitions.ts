// The built-in schemas at run time. They are generated from the npm package kubernetes-models (k8s-source.ts) and
// held gzip-compressed: the single executable embeds them as the asset openapi.json.gz (scripts/build-binary.ts);
// a source checkout generates them on first use into node_modules/.cache/tsk-openapi/ (keyed by the package version
// and the generator's own source). The parsed form kept in memory is one JSON text per schema (documents are put
// together from these texts without parsing them) and, for field validation, the parsed structure (no descriptions)
// of the schemas it has walked.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { logger } from '../../log/logger.ts';
import { embeddedAsset } from '../../native.ts';
import { generateDefinitions, sourcePackageDir, type Definitions, type Schema } from './k8s-source.ts';

export type { Definitions, Schema } from './k8s-source.ts';

const log = logger('openapi');
const here = dirname(fileURLToPath(import.meta.url));

let compressed: Buffer | undefined;

function embedded(): Buffer | undefined {
  return embeddedAsset('openapi.json.gz');
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

/**
 * Serialized form: a first line {"source","kinds"}, then one line per schema: name, a tab, the schema's JSON. Loading
 * it needs no JSON parse of the whole: each schema stays JSON text until someone needs its object form.
 */
export function serialize(d: Definitions): string {
  return [JSON.stringify({ source: d.source, kinds: d.kinds }), ...Object.entries(d.schemas).map(([n, x]) => `${n}\t${JSON.stringify(x)}`)].join('\n');
}

/** Generates the definitions from the installed source package, serialized and gzip-compressed. */
export function generateCompressed(): Buffer {
  const root = sourcePackageDir();
  if (!root) throw new Error('the npm package kubernetes-models is not installed (a devDependency: run npm ci)');
  return gzipSync(serialize(generateDefinitions(stableGroupVersions(root), root)), { level: 9 });
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
      // older generations (another package version or generator) are of no further use
      for (const f of readdirSync(dirname(file))) if (f.endsWith('.json.gz') && join(dirname(file), f) !== file) rmSync(join(dirname(file), f), { force: true });
    } catch (err) {
      log.warn('cannot cache the generated OpenAPI definitions', { err: String(err) });
    }
    return compressed;
  }
  log.warn('no built-in OpenAPI definitions (run npm ci, or build with npm run build): schemas stay open');
  return (compressed = gzipSync(JSON.stringify({ source: 'none', kinds: {} })));
}

/** The built-in schemas as JSON texts, with their references; object forms are parsed on demand. */
export class DefinitionStore {
  readonly source: string;
  /** "group/version/Kind" (group '' for core) → schema name. */
  readonly kinds: Record<string, string>;
  #texts = new Map<string, string>();
  #structure = new Map<string, Schema>();
  #refs = new Map<string, string[]>();
  constructor(serialized: string) {
    const nl = serialized.indexOf('\n');
    const head = JSON.parse(nl < 0 ? serialized : serialized.slice(0, nl)) as { source: string; kinds: Record<string, string> };
    this.source = head.source;
    this.kinds = head.kinds;
    if (nl < 0) return;
    for (const line of serialized.slice(nl + 1).split('\n')) {
      const tab = line.indexOf('\t');
      if (tab > 0) this.#texts.set(line.slice(0, tab), line.slice(tab + 1));
    }
  }
  has(name: string): boolean {
    return this.#texts.has(name);
  }
  names(): string[] {
    return [...this.#texts.keys()];
  }
  /** The schema's JSON text (with descriptions). */
  text(name: string): string | undefined {
    return this.#texts.get(name);
  }
  /** The names the schema references. */
  refs(name: string): string[] {
    let r = this.#refs.get(name);
    if (r) return r;
    const t = this.#texts.get(name);
    r = t ? [...new Set([...t.matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!))] : [];
    this.#refs.set(name, r);
    return r;
  }
  /** The schema and everything it references, by name. */
  closure(roots: string[]): string[] {
    const seen = new Set<string>();
    const todo = roots.filter((r) => this.has(r));
    while (todo.length) {
      const n = todo.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      for (const r of this.refs(n)) if (!seen.has(r) && this.has(r)) todo.push(r);
    }
    return [...seen];
  }
  /** The schema without descriptions, parsed once and kept (field validation). */
  structure(name: string): Schema | undefined {
    let s = this.#structure.get(name);
    if (s) return s;
    const t = this.#texts.get(name);
    if (!t) return undefined;
    s = JSON.parse(t, (k, v: unknown) => (k === 'description' && typeof v === 'string' ? undefined : v)) as Schema;
    this.#structure.set(name, s);
    return s;
  }
}

let store: DefinitionStore | undefined;

/** The built-in schemas (loaded once). */
export function definitions(): DefinitionStore {
  store ??= new DefinitionStore(gunzipSync(definitionsBuffer()).toString('utf8'));
  return store;
}

/** Test hook: forget the loaded definitions. */
export function resetDefinitions(): void {
  compressed = undefined;
  store = undefined;
}
