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

/** TSK_* variables that configure something other than a flag; yargs must not read them as flags. */
const NOT_FLAGS = ['TSK_CONFIG_FILE', 'TSK_NATIVE_CACHE', 'TSK_LOG_LEVEL_DEFAULT', 'TSK_TEST', 'TSK_REGISTRY_STORE'];

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  for (const k of NOT_FLAGS) delete process.env[k];
  const fileConfig = loadConfigFile(argv);
  let y = yargs(argv)
    .scriptName('tsk')
    .usage('$0 <command> [flags]\n\ntsk: a small single-binary Kubernetes for edge devices')
    .env('TSK')
    .config(fileConfig)
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
