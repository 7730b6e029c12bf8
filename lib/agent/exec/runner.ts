// The CommandRunner seam: every outside command (iptables-restore, ip, sysctl, conntrack) goes through here, so
// the service proxy, pod network and network policy code can be tested with a recorder and run inside a netns.
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Written to the command's stdin. */
  input?: string;
  /** Resolve with the non-zero exit code instead of throwing. */
  allowFail?: boolean;
  /** Kill the command after this many milliseconds (default 30 s). */
  timeoutMs?: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  run(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>;
}

export class CommandError extends Error {
  readonly result: RunResult;
  readonly cmd: string;
  constructor(cmd: string, args: string[], result: RunResult) {
    super(`${cmd} ${args.slice(0, 6).join(' ')} exited ${result.code}: ${result.stderr.trim().slice(0, 500)}`);
    this.cmd = cmd;
    this.result = result;
  }
}

/** Runs commands for real with child_process.spawn (no shell). */
export const execRunner: CommandRunner = {
  run(cmd, args, opts = {}) {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 65536) stderr += d; });
      child.on('error', (err) => { clearTimeout(timer); reject(new Error(`running ${cmd}`, { cause: err })); });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        const result = { code: code ?? (sig ? 128 : 1), stdout, stderr };
        if (result.code !== 0 && !opts.allowFail) reject(new CommandError(cmd, args, result));
        else resolve(result);
      });
      child.stdin.on('error', () => { /* the command may exit before reading stdin */ });
      child.stdin.end(opts.input ?? '');
    });
  },
};

/** Runs every command inside a network namespace (`ip netns exec NAME cmd ...`). */
export function netnsRunner(netns: string, inner: CommandRunner = execRunner): CommandRunner {
  return { run: (cmd, args, opts) => inner.run('ip', ['netns', 'exec', netns, cmd, ...args], opts) };
}

export interface RecordedCommand {
  cmd: string;
  args: string[];
  input?: string;
}

export type Responder = (c: RecordedCommand) => Partial<RunResult> | undefined;

/** A recording fake: remembers every command and answers from scripted responders (default: success, no output). */
export class RecordingRunner implements CommandRunner {
  readonly calls: RecordedCommand[] = [];
  #responders: Responder[] = [];

  /** Adds a responder; the most recently added one that returns a result wins. */
  respond(fn: Responder): this {
    this.#responders.unshift(fn);
    return this;
  }

  /** Convenience: answer commands whose "cmd args" line starts with prefix. */
  on(prefix: string, result: Partial<RunResult>): this {
    return this.respond((c) => ([c.cmd, ...c.args].join(' ').startsWith(prefix) ? result : undefined));
  }

  lines(): string[] {
    return this.calls.map((c) => [c.cmd, ...c.args].join(' '));
  }

  async run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const call: RecordedCommand = { cmd, args: [...args], ...(opts.input !== undefined ? { input: opts.input } : {}) };
    this.calls.push(call);
    let found: Partial<RunResult> | undefined;
    for (const r of this.#responders) {
      found = r(call);
      if (found) break;
    }
    const result: RunResult = { code: 0, stdout: '', stderr: '', ...found };
    if (result.code !== 0 && !opts.allowFail) throw new CommandError(cmd, args, result);
    return result;
  }
}
