// SPDY/3.1 framing as kubectl and the CRI stream server speak it (port-forward inside WebSocket messages, exec over a
// plain upgraded connection): frame encode/decode and the zlib header compression with the SPDY/3 dictionary.
// Only what those peers use: SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE, DATA.
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

export const SYN_STREAM = 1;
export const SYN_REPLY = 2;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PING = 6;
export const GOAWAY = 7;
export const HEADERS = 8;
export const WINDOW_UPDATE = 9;
export const FLAG_FIN = 1;

// The SPDY/3 header dictionary (draft 3, section 2.6.10.1): length-prefixed words, then a run of plain text.
const DICT_WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
];
const DICT_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden' +
  '404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,' +
  'publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

export const SPDY3_DICTIONARY: Buffer = Buffer.concat([
  ...DICT_WORDS.map((w) => {
    const b = Buffer.alloc(4 + w.length);
    b.writeUInt32BE(w.length, 0);
    b.write(w, 4, 'latin1');
    return b;
  }),
  Buffer.from(DICT_TAIL, 'latin1'),
]);

export type Headers = Record<string, string>;

export type Frame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'control'; kind: number; flags: number; payload: Buffer };

/** Splits a byte stream into frames (frames may arrive split or joined). */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: Frame[] = [];
    while (this.#buf.length >= 8) {
      const len = this.#buf.readUInt32BE(4) & 0xffffff;
      if (this.#buf.length < 8 + len) break;
      const flags = this.#buf[4]!;
      const body = this.#buf.subarray(8, 8 + len);
      if (this.#buf[0]! & 0x80) out.push({ type: 'control', kind: this.#buf.readUInt16BE(2), flags, payload: Buffer.from(body) });
      else out.push({ type: 'data', streamId: this.#buf.readUInt32BE(0) & 0x7fffffff, flags, data: Buffer.from(body) });
      this.#buf = this.#buf.subarray(8 + len);
    }
    return out;
  }
}

export function controlFrame(kind: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8003, 0);
  h.writeUInt16BE(kind, 2);
  h.writeUInt32BE(payload.length & 0xffffff, 4);
  h[4] = flags;
  return Buffer.concat([h, payload]);
}

export function dataFrame(streamId: number, data: Buffer, fin = false): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(data.length & 0xffffff, 4);
  h[4] = fin ? FLAG_FIN : 0;
  return Buffer.concat([h, data]);
}

export function u32(...v: number[]): Buffer {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => b.writeUInt32BE(x >>> 0, i * 4));
  return b;
}

export function encodeHeaderBlock(h: Headers): Buffer {
  const parts: Buffer[] = [u32(Object.keys(h).length)];
  for (const [k, v] of Object.entries(h)) {
    const kb = Buffer.from(k.toLowerCase(), 'utf8');
    const vb = Buffer.from(v, 'utf8');
    parts.push(u32(kb.length), kb, u32(vb.length), vb);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(b: Buffer): Headers {
  const out: Headers = {};
  let o = 0;
  const n = b.readUInt32BE(o); o += 4;
  for (let i = 0; i < n; i++) {
    const kl = b.readUInt32BE(o); o += 4;
    const k = b.toString('utf8', o, o + kl); o += kl;
    const vl = b.readUInt32BE(o); o += 4;
    out[k] = b.toString('utf8', o, o + vl); o += vl;
  }
  return out;
}

function zflush(z: Deflate | Inflate, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (d: Buffer) => chunks.push(d);
    const onError = (e: Error) => { z.off('data', onData); reject(e); };
    z.on('data', onData);
    z.once('error', onError);
    z.write(input);
    z.flush(constants.Z_SYNC_FLUSH, () => {
      z.off('data', onData);
      z.off('error', onError);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** One direction's header compression state (SPDY keeps one zlib stream per direction for the whole session). */
export class HeaderCodec {
  #deflate = createDeflate({ dictionary: SPDY3_DICTIONARY });
  #inflate = createInflate({ dictionary: SPDY3_DICTIONARY });
  #queue: Promise<unknown> = Promise.resolve();

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(fn);
    this.#queue = p.catch(() => {});
    return p;
  }

  compress(h: Headers): Promise<Buffer> { return this.#serial(() => zflush(this.#deflate, encodeHeaderBlock(h))); }
  decompress(b: Buffer): Promise<Headers> { return this.#serial(async () => decodeHeaderBlock(await zflush(this.#inflate, b))); }
  close(): void { this.#deflate.close(); this.#inflate.close(); }
}

export async function synStream(codec: HeaderCodec, streamId: number, h: Headers, fin = false): Promise<Buffer> {
  return controlFrame(SYN_STREAM, fin ? FLAG_FIN : 0, Buffer.concat([u32(streamId, 0), Buffer.from([0, 0]), await codec.compress(h)]));
}

export async function synReply(codec: HeaderCodec, streamId: number, h: Headers = {}, fin = false): Promise<Buffer> {
  return controlFrame(SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([u32(streamId), await codec.compress(h)]));
}

export const rstStream = (streamId: number, status: number) => controlFrame(RST_STREAM, 0, u32(streamId, status));
export const goAway = (lastStreamId: number, status = 0) => controlFrame(GOAWAY, 0, u32(lastStreamId, status));
export const ping = (id: number) => controlFrame(PING, 0, u32(id));

/** Parsed control frames (header blocks decompressed through the codec). */
export type Control =
  | { kind: 'syn_stream'; streamId: number; fin: boolean; headers: Headers }
  | { kind: 'syn_reply'; streamId: number; fin: boolean; headers: Headers }
  | { kind: 'headers'; streamId: number; fin: boolean; headers: Headers }
  | { kind: 'rst_stream'; streamId: number; status: number }
  | { kind: 'ping'; id: number }
  | { kind: 'goaway'; lastStreamId: number }
  | { kind: 'other'; type: number };

export async function parseControl(codec: HeaderCodec, f: Extract<Frame, { type: 'control' }>): Promise<Control> {
  const p = f.payload;
  const fin = (f.flags & FLAG_FIN) !== 0;
  switch (f.kind) {
    case SYN_STREAM: return { kind: 'syn_stream', streamId: p.readUInt32BE(0) & 0x7fffffff, fin, headers: await codec.decompress(p.subarray(10)) };
    case SYN_REPLY: return { kind: 'syn_reply', streamId: p.readUInt32BE(0) & 0x7fffffff, fin, headers: await codec.decompress(p.subarray(4)) };
    case HEADERS: return { kind: 'headers', streamId: p.readUInt32BE(0) & 0x7fffffff, fin, headers: await codec.decompress(p.subarray(4)) };
    case RST_STREAM: return { kind: 'rst_stream', streamId: p.readUInt32BE(0) & 0x7fffffff, status: p.readUInt32BE(4) };
    case PING: return { kind: 'ping', id: p.readUInt32BE(0) };
    case GOAWAY: return { kind: 'goaway', lastStreamId: p.readUInt32BE(0) & 0x7fffffff };
    default: return { kind: 'other', type: f.kind };
  }
}
