// Forwarding to upstream resolvers over UDP or TCP (the one place that opens sockets to them), plus a small
// bounded TTL cache of upstream answers keyed by question.
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import * as packet from 'dns-packet';
import type { Clock } from '../../clock.ts';

export interface Upstream { host: string; port: number }

/** "1.2.3.4", "1.2.3.4:5353", "[::1]:53", "::1". */
export function parseUpstream(s: string): Upstream {
  const m = /^\[(.+)\]:(\d+)$/.exec(s);
  if (m) return { host: m[1]!, port: Number(m[2]) };
  if (isIPv6(s)) return { host: s, port: 53 };
  const [host, port] = s.split(':');
  return { host: host!, port: port ? Number(port) : 53 };
}

function udpExchange(up: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIPv6(up.host) ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    const timer = setTimeout(() => done(new Error(`upstream ${up.host}:${up.port} timed out`)), timeoutMs);
    function done(err?: Error, msg?: Buffer) {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(msg!);
    }
    sock.on('error', (err) => done(err));
    sock.on('message', (msg) => { if (msg.length >= 12 && msg.readUInt16BE(0) === id) done(undefined, msg); });
    sock.send(query, up.port, up.host);
  });
}

function tcpExchange(up: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: up.host, port: up.port });
    let buf = Buffer.alloc(0);
    sock.setTimeout(timeoutMs, () => { sock.destroy(); reject(new Error(`upstream ${up.host}:${up.port} timed out`)); });
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.end();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(query.length);
    sock.write(Buffer.concat([len, query]));
  });
}

/** Asks each upstream in turn; the first answer wins. */
export async function forwardQuery(upstreams: Upstream[], query: Buffer, opts: { tcp: boolean; timeoutMs: number }): Promise<Buffer> {
  let last: unknown = new Error('no upstream resolvers');
  for (const up of upstreams) {
    try {
      return await (opts.tcp ? tcpExchange(up, query, opts.timeoutMs) : udpExchange(up, query, opts.timeoutMs));
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** Bounded cache of upstream responses (raw bytes), expiring at the smallest TTL, at most maxTtl seconds. */
export class DnsCache {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #maxTtl: number;
  readonly #entries = new Map<string, { msg: Buffer; expires: number }>();

  constructor(opts: { clock: Clock; maxEntries?: number; maxTtlSeconds?: number }) {
    this.#clock = opts.clock;
    this.#max = opts.maxEntries ?? 1000;
    this.#maxTtl = opts.maxTtlSeconds ?? 30;
  }

  static key(q: { name: string; type: string; class?: string }, tcp: boolean): string {
    return `${q.name.toLowerCase().replace(/\.$/, '')}|${q.type}|${q.class ?? 'IN'}|${tcp ? 't' : 'u'}`;
  }

  get(key: string, id: number): Buffer | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    const out = Buffer.from(e.msg);
    out.writeUInt16BE(id, 0);
    return out;
  }

  put(key: string, msg: Buffer): void {
    let decoded: packet.DecodedPacket & { rcode?: string };
    try {
      decoded = packet.decode(msg) as packet.DecodedPacket & { rcode?: string };
    } catch {
      return;
    }
    if (decoded.rcode !== 'NOERROR' && decoded.rcode !== 'NXDOMAIN') return;
    if (decoded.flag_tc) return;
    const ttls = [...(decoded.answers ?? []), ...(decoded.authorities ?? [])].map((a) => ('ttl' in a ? a.ttl ?? 0 : 0));
    const ttl = Math.min(this.#maxTtl, ...(ttls.length ? ttls : [0]));
    if (ttl <= 0) return;
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { msg: Buffer.from(msg), expires: this.#clock.now() + ttl * 1000 });
  }

  get size(): number {
    return this.#entries.size;
  }
}
