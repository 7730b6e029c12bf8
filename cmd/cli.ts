// Command-line parsing with yargs: flags win over TSK_* environment variables, which win over the config file.
import { existsSync, readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { parse as parseYaml } from 'yaml';
import { DEFAULTS, VERSION } from '../lib/config.ts';
import { configureLogging, type LogFormat, type LogLevel } from '../lib/log/logger.ts';
import { commands } from './commands.ts';

/** Reads the YAML config file named by --config (or the default path when it exists). */
export function loadConfigFile(argv: string[], env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  let path: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '-c') path = argv[i + 1];
    else if (a.startsWith('--config=')) path = a.slice('--config='.length);
  }
  path ??= env.TSK_CONFIG_FILE;
  const explicit = path !== undefined;
  path ??= DEFAULTS.configFile;
  if (!existsSync(path)) {
    if (explicit) throw new Error(`config file ${path} does not exist`);
    return {};
  }
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`config file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc == null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`config file ${path} must be a YAML mapping of flag names to values`);
  return doc as Record<string, unknown>;
}

export function globalOptions<T>(y: Argv<T>) {
  return y
    .option('config', { alias: 'c', type: 'string', describe: 'YAML config file', default: DEFAULTS.configFile })
    .option('log-format', { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'log output format' })
    .option('v', { type: 'number', default: 0, describe: 'log verbosity: 0 info, 1-3 debug, 4+ trace' })
    .option('log-level', { type: 'string', choices: ['error', 'warn', 'info', 'debug', 'trace'], describe: 'log level (overrides -v)' })
    .option('debug', { type: 'boolean', default: false, describe: 'debug logging' });
}

export function setupLogging(argv: { logFormat?: string; v?: number; logLevel?: string; debug?: boolean }): void {
  const v = argv.v ?? 0;
  const level = (argv.logLevel ?? (argv.debug ? 'debug' : v >= 4 ? 'trace' : v >= 1 ? 'debug' : 'info')) as LogLevel;
  configureLogging({ level, format: (argv.logFormat ?? 'text') as LogFormat });
}

/** The option names (kebab-case and camelCase, with aliases) of the command argv names, plus the global ones. */
function knownOptions(argv: string[]): Set<string> {
  const name = argv.find((a) => !a.startsWith('-'));
  const c = (commands as { command?: string; builder?: unknown }[]).find((x) => x.command?.split(' ')[0] === name);
  const probe = globalOptions(yargs([]));
  if (typeof c?.builder === 'function') (c.builder as (y: Argv) => unknown)(probe as Argv);
  return new Set(Object.keys((probe as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key));
}

const toEnvName = (option: string) => `TSK_${option.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/-/g, '_').toUpperCase()}`;

/**
 * Flags may also come from TSK_* variables and the config file, but only names some command knows: other TSK_*
 * variables (TSK_CONFIG_FILE, a test runner's own) are not flags, and the config file may hold keys for the other
 * command (a server's `token:` when running `tsk snapshot`).
 */
function settings(argv: string[]): { env: Record<string, string>; file: Record<string, unknown> } {
  const known = knownOptions(argv);
  const env: Record<string, string> = {};
  for (const name of known) {
    const v = process.env[toEnvName(name)];
    if (v !== undefined && !/[A-Z]/.test(name)) env[name] = v;
  }
  const file = loadConfigFile(argv);
  for (const k of Object.keys(file)) {
    if (!known.has(k)) delete file[k]; // a key for another command (or a typo: tsk server --help lists the names)
  }
  return { env, file };
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const { env, file } = settings(argv);
  let y = yargs(argv)
    .scriptName('tsk')
    .usage('$0 <command> [flags]\n\ntsk: a small single-binary Kubernetes for edge devices')
    .config({ ...file, ...env })
    .strict()
    .recommendCommands()
    .demandCommand(1, 'Say which command to run, for example: tsk server')
    .version(`tsk version ${VERSION.tsk} (kubernetes ${VERSION.gitVersion})`)
    .help()
    .wrap(Math.min(120, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    });
  y = globalOptions(y) as typeof y;
  for (const c of commands) y = y.command(c as never);
  await y.parseAsync().then(
    (args) => {
      const code = (args as { exitCode?: number }).exitCode;
      if (typeof code === 'number') exitCode = code;
    },
  );
  return exitCode;
}
