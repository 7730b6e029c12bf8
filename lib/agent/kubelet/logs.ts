// Container logs in the CRI format (`<RFC3339Nano> <stdout|stderr> <P|F> <text>`, one line per write), read back
// the way `kubectl logs` wants them: tailLines, sinceTime, timestamps, limitBytes, follow.
import { open, stat } from 'node:fs/promises';

export interface LogOptions {
  tailLines?: number;
  /** Only lines at or after this time (ms since the epoch). */
  sinceMs?: number;
  timestamps?: boolean;
  limitBytes?: number;
  /** Only this stream. */
  stream?: 'stdout' | 'stderr';
}

export interface CriLogLine { time: string; stream: 'stdout' | 'stderr'; partial: boolean; text: string }

export function parseCriLogLine(line: string): CriLogLine | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  return { time: line.slice(0, a), stream, partial: tag.split(':')[0] === 'P', text: c < 0 ? '' : line.slice(c + 1) };
}

/** Nanosecond-precision RFC 3339 time to ms (sub-ms digits dropped). */
const timeMs = (s: string) => Date.parse(s.replace(/(\.\d{3})\d*/, '$1'));

/** Joins partial lines and renders what kubectl shows. Pure. */
export function renderLogs(content: string, o: LogOptions = {}): string {
  const out: string[] = [];
  let pending: { time: string; text: string; stream: string } | undefined;
  for (const raw of content.split('\n')) {
    if (!raw) continue;
    const l = parseCriLogLine(raw);
    if (!l || (o.stream && l.stream !== o.stream)) continue;
    if (pending && pending.stream === l.stream) pending.text += l.text;
    else pending = { time: l.time, text: l.text, stream: l.stream };
    if (l.partial) continue;
    if (o.sinceMs === undefined || timeMs(pending.time) >= o.sinceMs) out.push(`${o.timestamps ? `${pending.time} ` : ''}${pending.text}\n`);
    pending = undefined;
  }
  const lines = o.tailLines !== undefined ? out.slice(Math.max(0, out.length - o.tailLines)) : out;
  let text = lines.join('');
  if (o.limitBytes !== undefined && Buffer.byteLength(text) > o.limitBytes) text = Buffer.from(text).subarray(0, o.limitBytes).toString();
  return text;
}

export async function readLogFile(path: string, o: LogOptions = {}): Promise<string> {
  let fh = await open(path, 'r');
  let ino = (await fh.stat()).ino;
  try {
    return renderLogs(await fh.readFile('utf8'), o);
  } finally {
    await fh.close();
  }
}

/**
 * Follows a log file: yields what is there (per options), then new complete lines as they are written, until the
 * signal aborts or stillRunning() turns false (after a last read).
 */
export async function* followLogFile(path: string, o: LogOptions & { signal: AbortSignal; stillRunning: () => Promise<boolean>; pollMs?: number }): AsyncGenerator<string> {
  let fh = await open(path, 'r');
  let ino = (await fh.stat()).ino;
  try {
    const first = await fh.readFile('utf8');
    const cut = first.lastIndexOf('\n') + 1;
    // An incomplete last line is read again with the rest of it.
    let offset = Buffer.byteLength(first.slice(0, cut));
    let carry = '';
    const initial = renderLogs(first.slice(0, cut), o);
    if (initial) yield initial;
    const follow = { ...o, tailLines: undefined, limitBytes: undefined };
    for (let i = 0; !o.signal.aborted; i++) {
      const running = await o.stillRunning();
      const { size } = await fh.stat();
      if (size > offset) {
        const buf = Buffer.alloc(size - offset);
        await fh.read(buf, 0, buf.length, offset);
        offset = size;
        const text = carry + buf.toString('utf8');
        const end = text.lastIndexOf('\n') + 1;
        carry = text.slice(end);
        const chunk = renderLogs(text.slice(0, end), follow);
        if (chunk) yield chunk;
      }
      if (size <= offset) {
        // Rotated (log-rotation.ts renamed the file and the runtime opened a new one): go on with the new file.
        const now = await stat(path).catch(() => undefined);
        if (now && now.ino !== ino) {
          await fh.close();
          fh = await open(path, 'r');
          ino = now.ino;
          offset = 0;
          continue;
        }
      }
      if (!running) return;
      await new Promise<void>((r) => {
        const tm = setTimeout(r, o.pollMs ?? 250);
        o.signal.addEventListener('abort', () => { clearTimeout(tm); r(); }, { once: true });
      });
    }
  } finally {
    await fh.close();
  }
}
