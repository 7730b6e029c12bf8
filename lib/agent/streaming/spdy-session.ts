// A SPDY/3.1 session over any byte transport (an upgraded socket, or WebSocket messages): streams with headers,
// data, half-close (FIN) and reset. Used as a server for port-forward and as a client towards the CRI stream server.
import { EventEmitter } from 'node:events';
import {
  dataFrame, FLAG_FIN, FrameReader, goAway, HeaderCodec, parseControl, ping, rstStream, synReply, synStream, type Headers,
} from './spdy.ts';

export class SpdyStream extends EventEmitter {
  readonly id: number;
  readonly headers: Headers;
  readonly #session: SpdySession;
  localClosed = false;
  remoteClosed = false;

  constructor(session: SpdySession, id: number, headers: Headers) {
    super();
    this.#session = session;
    this.id = id;
    this.headers = headers;
  }

  write(data: Buffer): void {
    if (this.localClosed || data.length === 0) return;
    for (let o = 0; o < data.length; o += 0xffff) this.#session.send(dataFrame(this.id, data.subarray(o, o + 0xffff)));
  }

  /** Half-close: FIN on an empty DATA frame. */
  end(data?: Buffer): void {
    if (data) this.write(data);
    if (this.localClosed) return;
    this.localClosed = true;
    this.#session.send(dataFrame(this.id, Buffer.alloc(0), true));
  }

  reset(status = 5): void {
    this.localClosed = this.remoteClosed = true;
    this.#session.send(rstStream(this.id, status));
    this.emit('end');
  }

  /** @internal */
  onRemoteData(data: Buffer, fin: boolean): void {
    if (data.length) this.emit('data', data);
    if (fin && !this.remoteClosed) {
      this.remoteClosed = true;
      this.emit('end');
    }
  }
}

export interface SpdySessionOptions {
  /** Writes raw bytes to the transport. */
  write(b: Buffer): void;
  /** Closes the transport. */
  close(): void;
  /** Client sessions use odd stream ids. */
  client: boolean;
}

/**
 * Events: 'stream' (SpdyStream opened by the peer, already answered with SYN_REPLY), 'close'.
 * Feed transport bytes with receive().
 */
export class SpdySession extends EventEmitter {
  readonly #o: SpdySessionOptions;
  readonly #reader = new FrameReader();
  readonly #codec = new HeaderCodec();
  readonly #streams = new Map<number, SpdyStream>();
  readonly #replies = new Map<number, (h: Headers) => void>();
  #nextId: number;
  #lastRemote = 0;
  #chain: Promise<void> = Promise.resolve();
  #sendChain: Promise<void> = Promise.resolve();
  closed = false;

  constructor(o: SpdySessionOptions) {
    super();
    this.#o = o;
    this.#nextId = o.client ? 1 : 2;
  }

  /** Frames go out in call order, including those whose header compression is asynchronous. */
  send(b: Buffer | Promise<Buffer>): void {
    this.#sendChain = this.#sendChain.then(async () => {
      const buf = await b;
      if (!this.closed) this.#o.write(buf);
    }).catch(() => {});
  }

  receive(chunk: Buffer): void {
    for (const f of this.#reader.push(chunk)) {
      this.#chain = this.#chain.then(() => this.#handle(f)).catch((e) => { this.emit('error', e); this.close(); });
    }
  }

  async #handle(f: ReturnType<FrameReader['push']>[number]): Promise<void> {
    if (f.type === 'data') {
      this.#streams.get(f.streamId)?.onRemoteData(f.data, (f.flags & FLAG_FIN) !== 0);
      return;
    }
    const c = await parseControl(this.#codec, f);
    switch (c.kind) {
      case 'syn_stream': {
        this.#lastRemote = c.streamId;
        const s = new SpdyStream(this, c.streamId, c.headers);
        this.#streams.set(c.streamId, s);
        this.send(synReply(this.#codec, c.streamId, {}));
        this.emit('stream', s);
        if (c.fin) s.onRemoteData(Buffer.alloc(0), true);
        break;
      }
      case 'syn_reply': {
        this.#replies.get(c.streamId)?.(c.headers);
        this.#replies.delete(c.streamId);
        if (c.fin) this.#streams.get(c.streamId)?.onRemoteData(Buffer.alloc(0), true);
        break;
      }
      case 'headers':
        if (c.fin) this.#streams.get(c.streamId)?.onRemoteData(Buffer.alloc(0), true);
        break;
      case 'rst_stream': {
        const s = this.#streams.get(c.streamId);
        if (s) { s.localClosed = true; s.onRemoteData(Buffer.alloc(0), true); s.emit('reset', c.status); }
        break;
      }
      case 'ping':
        // Echo the peer's pings; ignore the answers to ours.
        if ((c.id % 2 === 1) !== this.#o.client) this.send(ping(c.id));
        break;
      case 'goaway':
        this.close();
        break;
      default:
        break;
    }
  }

  /** Opens a stream and waits for the peer's SYN_REPLY. */
  async open(headers: Headers, fin = false): Promise<SpdyStream> {
    const id = this.#nextId;
    this.#nextId += 2;
    const s = new SpdyStream(this, id, headers);
    if (fin) s.localClosed = true;
    this.#streams.set(id, s);
    const replied = new Promise<Headers>((resolve) => this.#replies.set(id, resolve));
    this.send(synStream(this.#codec, id, headers, fin));
    await replied;
    return s;
  }

  close(): void {
    if (this.closed) return;
    this.send(goAway(this.#lastRemote));
    void this.#sendChain.then(() => {
      this.closed = true;
      this.#codec.close();
      this.#o.close();
    });
    for (const s of this.#streams.values()) s.onRemoteData(Buffer.alloc(0), true);
    this.emit('close');
  }

  /** The transport ended. */
  transportClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.#streams.values()) s.onRemoteData(Buffer.alloc(0), true);
    this.#codec.close();
    this.emit('close');
  }
}
