// The one adapter over the npm package `kubernetes-models` (a devDependency: generated from the upstream OpenAPI
// spec). It reads the package's declaration files (field names, types, required markers, enum values and the
// upstream descriptions, verbatim) and its compiled validators (integer formats), and turns them into OpenAPI v3
// component schemas named as upstream (io.k8s.api.core.v1.Pod). The package carries no x-kubernetes-* extensions;
// patch-extensions.ts adds them. Used at build time (scripts/gen-openapi.ts) and, from a source checkout, on first
// use (definitions.ts); never inside the single executable, which embeds the result.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { applyPatchExtensions } from './patch-extensions.ts';

export type Schema = Record<string, unknown>;

export interface Definitions {
  /** Version of the source package the schemas come from. */
  source: string;
  /** "group/version/Kind" (group '' for core) → schema name. */
  kinds: Record<string, string>;
  schemas: Record<string, Schema>;
}

const REF = '#/components/schemas/';

/** Upstream schema name of a kubernetes-models alias (IoK8sApiAppsV1Deployment → io.k8s.api.apps.v1.Deployment). */
export function upstreamName(alias: string): string {
  const prefixes: [string, string][] = [
    ['IoK8sApimachineryPkgApisMeta', 'io.k8s.apimachinery.pkg.apis.meta'],
    ['IoK8sApimachineryPkgApiResource', 'io.k8s.apimachinery.pkg.api.resource'],
    ['IoK8sApimachineryPkgUtilIntstr', 'io.k8s.apimachinery.pkg.util.intstr'],
    ['IoK8sApimachineryPkgRuntime', 'io.k8s.apimachinery.pkg.runtime'],
    ['IoK8sApimachineryPkgVersion', 'io.k8s.apimachinery.pkg.version'],
    ['IoK8sApiextensionsApiserverPkgApisApiextensions', 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions'],
    ['IoK8sKubeAggregatorPkgApisApiregistration', 'io.k8s.kube-aggregator.pkg.apis.apiregistration'],
  ];
  let prefix: string | undefined;
  let rest = alias;
  for (const [p, up] of prefixes) {
    if (alias.startsWith(p)) {
      prefix = up;
      rest = alias.slice(p.length);
      break;
    }
  }
  if (!prefix) {
    const m = /^IoK8sApi([A-Z][a-z]+)(.+)$/.exec(alias);
    if (!m) throw new Error(`unexpected kubernetes-models type name ${alias}`);
    prefix = `io.k8s.api.${m[1]!.toLowerCase()}`;
    rest = m[2]!;
  }
  const v = /^(V\d+(?:(?:alpha|beta)\d+)?)([A-Z].*)$/.exec(rest);
  return v ? `${prefix}.${v[1]!.toLowerCase()}.${v[2]}` : `${prefix}.${rest}`;
}

const STD_DESC: Record<string, string> = {
  apiVersion: 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
  kind: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
};

/** Scalar-like types the package declares as type aliases; upstream gives them these schemas. */
const SCALARS: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string' },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
};
/** Empty interfaces in the package that upstream types as objects (the rest stay untyped: any JSON). */
const OBJECTS = new Set(['io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1', 'io.k8s.apimachinery.pkg.runtime.RawExtension']);

interface ParsedFile {
  name: string;
  schema: Schema;
  /** Files this one references, by upstream name. */
  refs: Map<string, string>;
}

function jsdoc(lines: string[], end: number): string | undefined {
  // lines[end] is the line after the comment; walk back to '/**'.
  let i = end - 1;
  if (i < 0 || !lines[i]!.trim().endsWith('*/')) return undefined;
  const out: string[] = [];
  for (; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (l.startsWith('/**')) break;
    if (l === '*/') continue;
    out.unshift(l.replace(/^\*\s?/, '').replace(/\s*\*\/$/, ''));
  }
  const text = out.join('\n').replaceAll('*\\/', '*/').trim();
  return text || undefined;
}

/** Parses one TypeScript type expression of the package into a schema (refs collected by alias). */
function typeSchema(expr: string, selfAlias: string, short: string, imports: Map<string, string>, refs: Set<string>): Schema {
  const t = expr.trim();
  if (t === 'string' || /^I\w+\["(kind|apiVersion)"\]$/.test(t) || /^"[^"]*"$/.test(t) && !t.includes('|')) return { type: 'string' };
  if (t === 'boolean') return { type: 'boolean' };
  if (t === 'number') return { type: 'number' };
  if (/^"[^"]*"(\s*\|\s*"[^"]*")+$/.test(t)) return { type: 'string', enum: [...t.matchAll(/"([^"]*)"/g)].map((m) => m[1]) };
  const arr = /^Array<(.+)>$/s.exec(t);
  if (arr) return { type: 'array', items: typeSchema(arr[1]!, selfAlias, short, imports, refs) };
  const map = /^\{\s*\[key: string\]:\s*(.+?);?\s*\}$/s.exec(t);
  if (map) return { type: 'object', additionalProperties: typeSchema(map[1]!, selfAlias, short, imports, refs) };
  if (t === `I${short}`) {
    refs.add(selfAlias);
    return { $ref: REF + upstreamName(selfAlias) };
  }
  if (/^IIoK8s\w+$/.test(t)) {
    refs.add(t.slice(1));
    if (!imports.has(t)) throw new Error(`${selfAlias}: ${t} is not imported`);
    return { $ref: REF + upstreamName(t.slice(1)) };
  }
  if (t === 'unknown' || t === 'any' || t === 'object') return {};
  throw new Error(`${selfAlias}: unsupported type ${t}`);
}

/** The integer formats of number-typed fields, read from the package's compiled validator of the type. */
function numberFormats(validatorFile: string): Map<string, { type: string; format?: string }> {
  const out = new Map<string, { type: string; format?: string }>();
  if (!existsSync(validatorFile)) return out;
  const js = readFileSync(validatorFile, 'utf8');
  const fns = new Map<string, string>();
  const re = /function (validate\d+)\(/g;
  const starts: [string, number][] = [];
  for (let m; (m = re.exec(js));) starts.push([m[1]!, m.index]);
  starts.forEach(([name, at], i) => fns.set(name, js.slice(at, i + 1 < starts.length ? starts[i + 1]![1] : js.length)));
  const top = /export const validate=(validate\d+)/.exec(js)?.[1];
  const body = top ? fns.get(top) : undefined;
  if (!body) return out;
  const closure = (fn: string, seen = new Set<string>()): string => {
    if (seen.has(fn) || !fns.has(fn)) return '';
    seen.add(fn);
    const text = fns.get(fn)!;
    let all = text;
    for (const c of text.matchAll(/(validate\d+)\(data/g)) if (c[1] !== fn) all += closure(c[1]!, seen);
    return all;
  };
  for (const m of body.matchAll(/void 0!==data(?:\.([\w$]+)|\["([^"]+)"\])&&\((validate\d+)\(/g)) {
    const prop = m[1] ?? m[2]!;
    const text = closure(m[3]!);
    const format = /format:"(int32|int64|double|float)"/.exec(text)?.[1];
    const type = /params:\{type:"(integer|number)"\}/.exec(text)?.[1];
    if (type || format) out.set(prop, { type: type ?? (format?.startsWith('int') ? 'integer' : 'number'), format });
  }
  // Properties checked inline in the top validator (schemaPath "#/properties/<name>/type|format").
  const inline = new Map<string, { type?: string; format?: string }>();
  for (const m of body.matchAll(/schemaPath:"#\/properties\/([\w$]+)\/(type|format)",keyword:"\w+",params:\{\w+:"(\w+)"\}/g)) {
    const e = inline.get(m[1]!) ?? {};
    if (m[2] === 'type' && (m[3] === 'integer' || m[3] === 'number')) e.type = m[3];
    if (m[2] === 'format') e.format = m[3];
    inline.set(m[1]!, e);
  }
  for (const [prop, e] of inline) {
    if (out.has(prop) || (!e.type && !e.format)) continue;
    out.set(prop, { type: e.type ?? (e.format?.startsWith('int') ? 'integer' : 'number'), format: e.format });
  }
  return out;
}

function setNumberTypes(s: Schema, f: { type: string; format?: string }): void {
  if (s.type === 'number') {
    s.type = f.type;
    if (f.format) s.format = f.format;
  } else if (s.type === 'array' && s.items) setNumberTypes(s.items as Schema, f);
  else if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') setNumberTypes(s.additionalProperties as Schema, f);
}

/** Parses the property lines of an interface (or inline object type) at the given indentation. */
function parseProps(lines: string[], from: number, indent: number, type: (expr: string) => Schema,
  formats: Map<string, { type: string; format?: string }>): { properties: Record<string, Schema>; required: string[] } {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  const pad = ' '.repeat(indent);
  const prop = new RegExp(`^${pad}"([^"]+)"(\\?)?: (.*)$`);
  const close = new RegExp(`^${pad}\\}[>]*;$`);
  const end = `${' '.repeat(indent - 4)}}`;
  for (let i = from; i < lines.length && !lines[i]!.startsWith(end); i++) {
    const m = prop.exec(lines[i]!);
    if (!m) continue;
    let expr = m[3]!.replace(/;$/, '');
    const start = i;
    let s: Schema;
    if (expr.endsWith('{')) {
      const bodyStart = i + 1;
      while (!close.test(lines[++i]!)) expr += lines[i];
      if (expr.startsWith('{') && lines[bodyStart]!.trim().startsWith('[key: string]')) {
        s = type(`${expr}}`);
      } else {
        const inner = parseProps(lines, bodyStart, indent + 4, type, new Map());
        const obj: Schema = { type: 'object', properties: inner.properties, ...(inner.required.length ? { required: inner.required } : {}) };
        s = expr.startsWith('Array<') ? { type: 'array', items: obj } : obj;
      }
    } else s = type(expr);
    const field = m[1]!;
    setNumberTypes(s, formats.get(field) ?? { type: 'number', format: 'double' });
    const desc = jsdoc(lines, start) ?? STD_DESC[field];
    properties[field] = s.$ref ? { allOf: [s], ...(desc ? { description: desc } : {}) } : { ...(desc ? { description: desc } : {}), ...s };
    if (!m[2]) required.push(field);
  }
  return { properties, required };
}

/** Parses the declaration file of one type. */
function parseFile(file: string, validatorDir: string): ParsedFile {
  const text = readFileSync(file, 'utf8');
  const aliasM = /export type \{ I(\w+) as I(IoK8s\w+)/.exec(text);
  if (!aliasM) throw new Error(`${file}: no alias export`);
  const short = aliasM[1]!;
  const alias = aliasM[2]!;
  const name = upstreamName(alias);
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/import \{ (IIoK8s\w+) \} from "([^"]+)"/g)) imports.set(m[1]!, m[2]!);
  const lines = text.split('\n');
  const refs = new Map<string, string>();
  const refSet = new Set<string>();
  const typeLine = lines.findIndex((l) => l.startsWith(`export type I${short} = `));
  const ifaceLine = lines.findIndex((l) => l.startsWith(`export interface I${short} `));
  const description = jsdoc(lines, typeLine >= 0 ? typeLine : ifaceLine);
  let schema: Schema;
  if (SCALARS[name]) {
    schema = { ...SCALARS[name] };
  } else if (ifaceLine < 0) {
    throw new Error(`${file}: no interface I${short}`);
  } else {
    const formats = numberFormats(join(validatorDir, `${alias}.js`));
    const { properties, required } = parseProps(lines, ifaceLine + 1, 4, (expr) => typeSchema(expr, alias, short, imports, refSet), formats);
    if (Object.keys(properties).length) schema = { type: 'object', properties, ...(required.length ? { required } : {}) };
    else schema = OBJECTS.has(name) ? { type: 'object' } : {};
  }
  if (description) schema = { description, ...schema };
  for (const a of refSet) {
    if (a === alias) continue;
    const spec = imports.get(`I${a}`)!;
    refs.set(upstreamName(a), resolveImport(file, spec));
  }
  return { name, schema, refs };
}

const require = createRequire(import.meta.url);

function resolveImport(from: string, spec: string): string {
  if (spec.startsWith('.')) return resolve(dirname(from), spec).replace(/\.js$/, '.d.ts');
  const parts = spec.split('/');
  const pkg = parts.slice(0, spec.startsWith('@') ? 2 : 1).join('/');
  const sub = parts.slice(spec.startsWith('@') ? 2 : 1).join('/').replace(/\.js$/, '');
  for (let d = dirname(from); d !== dirname(d); d = dirname(d)) {
    const dir = join(d, 'node_modules', pkg);
    if (existsSync(dir)) return join(dir, `${sub}.d.ts`);
  }
  throw new Error(`cannot find ${spec} from ${from}`);
}

/** The package's compiled validators (_schemas/) next to a declaration file's package root. */
function validatorDir(file: string): string {
  for (let d = dirname(file); d !== dirname(d); d = dirname(d)) if (existsSync(join(d, '_schemas'))) return join(d, '_schemas');
  return join(dirname(file), '_schemas');
}

/** Root directory of the installed source package, or undefined when it is not installed. */
export function sourcePackageDir(): string | undefined {
  try {
    return dirname(require.resolve('kubernetes-models/package.json'));
  } catch {
    return undefined;
  }
}

/** The source package's version ("kubernetes-models@5.1.0"). */
export function sourceVersion(dir = sourcePackageDir()): string | undefined {
  if (!dir) return undefined;
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
  return `${pkg.name}@${pkg.version}`;
}

/** Directory of a group-version inside the package ('' v1 → v1/, apps v1 → apps/v1/). */
function gvDir(root: string, group: string, version: string): string {
  return group ? join(root, group, version) : join(root, version);
}

/**
 * Schemas of every kind of the given group-versions and of everything they reference, from the installed package.
 * Kinds the package lacks are left out (the documents fall back to an open schema for them).
 */
export function generateDefinitions(groupVersions: readonly string[], root = sourcePackageDir()): Definitions {
  if (!root) throw new Error('the npm package kubernetes-models is not installed (it is a devDependency: run npm ci)');
  const source = sourceVersion(root)!;
  const kinds: Record<string, string> = {};
  const schemas: Record<string, Schema> = {};
  const todo: [string, string][] = [];
  for (const gv of groupVersions) {
    const [group, version] = gv.includes('/') ? gv.split('/') as [string, string] : ['', gv];
    const dir = gvDir(root, group, version);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.d.ts') && n !== 'index.d.ts').sort()) {
      const text = readFileSync(join(dir, f), 'utf8');
      const km = /^ {4}"kind": "(\w+)";$/m.exec(text);
      const am = /^ {4}"apiVersion": "([^"]+)";$/m.exec(text);
      if (!km || !am || am[1] !== (group ? `${group}/${version}` : version) || km[1]!.endsWith('List')) continue;
      const alias = /export type \{ I\w+ as I(IoK8s\w+)/.exec(text)?.[1];
      if (!alias) continue;
      kinds[`${group}/${version}/${km[1]}`] = upstreamName(alias);
      todo.push([upstreamName(alias), join(dir, f)]);
    }
  }
  while (todo.length) {
    const [name, file] = todo.pop()!;
    if (schemas[name]) continue;
    const parsed = parseFile(file, validatorDir(file));
    schemas[name] = parsed.schema;
    for (const [n, f] of parsed.refs) if (!schemas[n]) todo.push([n, f]);
  }
  for (const [key, name] of Object.entries(kinds)) {
    const [group, version, kind] = key.split('/') as [string, string, string];
    schemas[name] = { ...schemas[name], 'x-kubernetes-group-version-kind': [{ group, kind, version }] };
  }
  applyPatchExtensions(schemas);
  return { source, kinds, schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => (a < b ? -1 : 1))) };
}
