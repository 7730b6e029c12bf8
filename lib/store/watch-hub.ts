// Fan-out of committed events to watchers, each with a bounded buffer. A watcher that falls behind is closed
// with a reason (the client relists); writers never wait on watchers.
import type { Watch, WatchEvent, WatchMessage } from './types.ts';

export const DEFAULT_WATCH_BUFFER = 10_000;

export class HubWatch implements Watch {
  readonly prefix: string;
  #queue: WatchMessage[] = [];
  #queued = 0;
  #wake: (() => void) | undefined;
  #closed = false;
  #reason: string | undefined;
  #limit: number;
  #onClose: (w: HubWatch) => void;
  /** Events at or below this revision were already delivered from history. */
  lastRevision: number;
  /** The watcher asked for periodic progress notifications. */
  progressNotify = false;

  constructor(prefix: string, fromRevision: number, limit: number, onClose: (w: HubWatch) => void) {
    this.prefix = prefix;
    this.lastRevision = fromRevision;
    this.#limit = limit;
    this.#onClose = onClose;
  }

  get closedReason(): string | undefined {
    return this.#reason;
  }

  get closed(): boolean {
    return this.#closed;
  }

  push(msg: WatchMessage): void {
    if (this.#closed) return;
    const n = 'events' in msg ? msg.events.length : 1;
    if (this.#queued + n > this.#limit) {
      this.close('watcher too slow: buffer full');
      return;
    }
    this.#queued += n;
    this.#queue.push(msg);
    this.#wake?.();
  }

  close(reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reason = reason;
    this.#onClose(this);
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchMessage> {
    try {
      for (;;) {
        const msg = this.#queue.shift();
        if (msg) {
          this.#queued -= 'events' in msg ? msg.events.length : 1;
          yield msg;
          continue;
        }
        if (this.#closed) return;
        await new Promise<void>((r) => (this.#wake = r));
        this.#wake = undefined;
      }
    } finally {
      if (!this.#closed) this.close();
    }
  }
}

export class WatchHub {
  #watchers = new Set<HubWatch>();
  #limit: number;
  constructor(limit = DEFAULT_WATCH_BUFFER) {
    this.#limit = limit;
  }

  /** Events a watcher may have queued before it is closed. */
  get limit(): number {
    return this.#limit;
  }

  get size(): number {
    return this.#watchers.size;
  }

  add(prefix: string, fromRevision: number, backlog: WatchEvent[], opts: { progressNotify?: boolean } = {}): HubWatch {
    const w = new HubWatch(prefix, fromRevision, this.#limit, (x) => this.#watchers.delete(x));
    w.progressNotify = opts.progressNotify ?? false;
    this.#watchers.add(w);
    if (backlog.length) {
      const last = backlog[backlog.length - 1]!.kv.modRevision;
      w.push({ events: backlog, revision: last });
      w.lastRevision = last;
    }
    return w;
  }

  /** Delivers events of one committed revision range (sorted by revision). */
  publish(events: WatchEvent[], revision: number): void {
    for (const w of this.#watchers) {
      const mine = events.filter((e) => e.kv.modRevision > w.lastRevision && e.kv.key.startsWith(w.prefix));
      if (mine.length) {
        w.push({ events: mine, revision });
        w.lastRevision = mine[mine.length - 1]!.kv.modRevision;
      }
    }
  }

  /**
   * Tells watchers that every event up to revision was delivered (never revision 0). Call it only when every
   * committed event up to revision has been published. onlyNotify: just the watchers that asked for it.
   */
  progress(revision: number, onlyNotify = false): void {
    if (revision <= 0) return;
    for (const w of this.#watchers) {
      if (onlyNotify && !w.progressNotify) continue;
      if (revision >= w.lastRevision) w.push({ progress: true, revision });
    }
  }

  /** True when some watcher wants periodic progress notifications. */
  wantsProgress(): boolean {
    for (const w of this.#watchers) if (w.progressNotify) return true;
    return false;
  }

  closeAll(reason: string): void {
    for (const w of [...this.#watchers]) w.close(reason);
  }
}
