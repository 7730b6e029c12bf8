// The one logging adapter: pino underneath, named per subsystem, JSON or human format.
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type LogFormat = 'json' | 'text';

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown> | (() => Record<string, unknown>)): void;
  trace(msg: string, fields?: Record<string, unknown> | (() => Record<string, unknown>)): void;
  enabled(level: LogLevel): boolean;
}

export interface LogOptions {
  level: LogLevel;
  format: LogFormat;
  /** Per-subsystem level overrides, e.g. { 'store/sqlite': 'debug' }. */
  subsystems?: Record<string, LogLevel>;
  destination?: DestinationStream;
}

let root: PinoLogger | undefined;
let options: LogOptions = { level: 'info', format: 'text' };
const cache = new Map<string, Logger>();

function textDestination(out: NodeJS.WritableStream): DestinationStream {
  return {
    write(line: string) {
      const { level, time, name, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
      delete rest.pid;
      delete rest.hostname;
      const lvl = pino.levels.labels[level as number]?.toUpperCase() ?? String(level);
      const kv = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)}`);
      out.write(`${new Date(time as number).toISOString()} ${lvl.padEnd(5)} [${String(name)}] ${String(msg)}${kv.length ? ' ' + kv.join(' ') : ''}\n`);
    },
  };
}

/** Configures logging for the whole process; cmd/ calls this once from flags. */
export function configureLogging(next: Partial<LogOptions>): void {
  options = { ...options, ...next };
  const dest = options.destination ?? (options.format === 'json' ? pino.destination({ fd: 2, sync: true }) : textDestination(process.stderr));
  root = pino({ level: 'trace', base: undefined, timestamp: pino.stdTimeFunctions.epochTime }, dest);
  cache.clear();
}

const order: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

export function logger(name: string): Logger {
  const hit = cache.get(name);
  if (hit) return hit;
  if (!root) configureLogging({ level: (process.env.TSK_LOG_LEVEL as LogLevel) ?? 'warn' });
  const child = root!.child({ name });
  const level = options.subsystems?.[name] ?? options.level;
  const enabled = (l: LogLevel) => order[l] <= order[level];
  const emit = (l: LogLevel) => (msg: string, fields?: Record<string, unknown> | (() => Record<string, unknown>)) => {
    if (!enabled(l)) return;
    const f = typeof fields === 'function' ? fields() : fields;
    if (f) child[l](f, msg); else child[l](msg);
  };
  const log: Logger = { error: emit('error'), warn: emit('warn'), info: emit('info'), debug: emit('debug'), trace: emit('trace'), enabled };
  cache.set(name, log);
  return log;
}
