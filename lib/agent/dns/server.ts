// The cluster DNS server: UDP + TCP listeners, the cluster zone answered from Services and EndpointSlices,
// everything else forwarded upstream through a small TTL cache.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket as TcpSocket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import * as packet from 'dns-packet';
import type { Client, KubeObject } from '../../client/types.ts';
import { core, discovery } from '../../client/types.ts';
import { realClock, type Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import { ObjectCache } from '../proxy/object-cache.ts';
import { answer, buildDnsIndex, type DnsIndex } from './records.ts';
import { DnsCache, forwardQuery, parseUpstream } from './forward.ts';

const log = logger('agent/dns');

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface DnsListen { address: string; port: number }

export interface DnsOptions {
  client: Pick<Client, 'list' | 'watch'>;
  listen: DnsListen[];
  domain: string;
  /** "ip" or "ip:port"; see upstreamsFrom() for the host's defaults. */
  upstreams: string[];
  signal: AbortSignal;
  clock?: Clock;
  forwardTimeoutMs?: number;
  /** Serve Prometheus text metrics on this address (CoreDNS' 9153); failures to bind are logged, not fatal. */
  metricsListen?: DnsListen;
}

export interface DnsServer {
  /** Bound addresses (ports resolved when 0 was asked). */
  addresses: { address: string; port: number; protocol: 'udp' | 'tcp' }[];
  /** Resolves when the Service/EndpointSlice caches have synced. */
  ready: Promise<void>;
  closed: Promise<void>;
}

/** The handler: (query bytes, transport) → response bytes. Exported for tests. */
export class DnsHandler {
  readonly #zone: () => DnsIndex | undefined;
  readonly #cache: DnsCache;
  readonly #upstreams;
  readonly #timeout: number;

  constructor(opts: { zone: () => DnsIndex | undefined; upstreams: string[]; clock: Clock; forwardTimeoutMs?: number }) {
    this.#zone = opts.zone;
    this.#cache = new DnsCache({ clock: opts.clock });
    this.#upstreams = opts.upstreams.map(parseUpstream);
    this.#timeout = opts.forwardTimeoutMs ?? 2000;
  }

  /** Counters for /metrics. */
  readonly stats = { requests: 0, local: 0, nxdomain: 0, cacheHits: 0, forwarded: 0, servfail: 0 };

  async handle(msg: Buffer, tcp: boolean): Promise<Buffer | undefined> {
    this.stats.requests++;
    let req: packet.DecodedPacket & { opcode?: string };
    try {
      req = packet.decode(msg) as packet.DecodedPacket & { opcode?: string };
    } catch {
      return msg.length >= 12 ? errorReply(msg.readUInt16BE(0), RCODE.FORMERR) : undefined;
    }
    const q = req.questions?.[0];
    if (req.type !== 'query' || !q) return errorReply(req.id ?? 0, RCODE.FORMERR);
    if (req.opcode && req.opcode !== 'QUERY') return errorReply(req.id ?? 0, RCODE.NOTIMP, req);
    const zone = this.#zone();
    const local = zone ? answer(zone, q) : undefined;
    if (local) {
      const res = packet.encode({
        type: 'response', id: req.id ?? 0,
        flags: packet.AUTHORITATIVE_ANSWER | packet.RECURSION_AVAILABLE | (req.flag_rd ? packet.RECURSION_DESIRED : 0) | RCODE[local.rcode],
        questions: [q], answers: local.answers, authorities: local.authorities, additionals: local.additionals,
      });
      this.stats.local++;
      if (local.rcode === 'NXDOMAIN') this.stats.nxdomain++;
      return tcp ? res : truncateForUdp(res, req);
    }
    if (!zone && q.name.toLowerCase().replace(/\.$/, '').endsWith(this.#domainHint)) return errorReply(req.id ?? 0, RCODE.SERVFAIL, req);
    const key = DnsCache.key(q, tcp);
    const hit = this.#cache.get(key, req.id ?? 0);
    if (hit) { this.stats.cacheHits++; return hit; }
    try {
      const res = await forwardQuery(this.#upstreams, msg, { tcp, timeoutMs: this.#timeout });
      this.stats.forwarded++;
      this.#cache.put(key, res);
      return res;
    } catch (err) {
      log.debug('forwarding failed', { name: q.name, err: String(err) });
      this.stats.servfail++;
      return errorReply(req.id ?? 0, RCODE.SERVFAIL, req);
    }
  }

  #domainHint = '\u0000';
  /** While the zone is not loaded, names under the domain get SERVFAIL instead of being forwarded. */
  setDomain(domain: string): void {
    this.#domainHint = domain.toLowerCase();
  }
}

function errorReply(id: number, rcode: number, req?: packet.DecodedPacket): Buffer {
  return packet.encode({
    type: 'response', id, flags: packet.RECURSION_AVAILABLE | (req?.flag_rd ? packet.RECURSION_DESIRED : 0) | rcode,
    questions: req?.questions ?? [],
  });
}

function truncateForUdp(res: Buffer, req: packet.DecodedPacket): Buffer {
  const opt = req.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  const max = Math.min(Math.max(opt?.udpPayloadSize ?? 512, 512), 4096);
  if (res.length <= max) return res;
  const flags = res.readUInt16BE(2) | packet.TRUNCATED_RESPONSE;
  return packet.encode({ type: 'response', id: req.id ?? 0, flags: flags & 0x7fff, questions: req.questions ?? [] });
}

function listenUdp(h: DnsHandler, l: DnsListen): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: isIPv6(l.address) ? 'udp6' : 'udp4', reuseAddr: false });
    sock.once('error', reject);
    sock.on('message', (msg, rinfo) => {
      h.handle(msg, false).then((res) => { if (res) sock.send(res, rinfo.port, rinfo.address); }, (err: unknown) => log.warn('dns query failed', { err: String(err) }));
    });
    sock.bind(l.port, l.address, () => { sock.off('error', reject); sock.on('error', (err) => log.warn('udp socket error', { err: String(err) })); resolve(sock); });
  });
}

function serveTcpConn(h: DnsHandler, conn: TcpSocket): void {
  let buf = Buffer.alloc(0);
  conn.setTimeout(10_000, () => conn.destroy());
  conn.on('error', () => conn.destroy());
  conn.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (buf.length > 70_000) return conn.destroy();
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
      buf = buf.subarray(2 + msg.length);
      h.handle(Buffer.from(msg), true).then((res) => {
        if (!res || conn.destroyed) return;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(res.length);
        conn.write(Buffer.concat([len, res]));
      }, () => conn.destroy());
    }
  });
}

const conns = new WeakMap<Server, Set<TcpSocket>>();

function listenTcp(h: DnsHandler, l: DnsListen): Promise<Server> {
  return new Promise((resolve, reject) => {
    const open = new Set<TcpSocket>();
    const srv = createServer((c) => {
      open.add(c);
      c.on('close', () => open.delete(c));
      serveTcpConn(h, c);
    });
    conns.set(srv, open);
    srv.maxConnections = 256;
    srv.once('error', reject);
    srv.listen(l.port, l.address, () => { srv.off('error', reject); resolve(srv); });
  });
}

/** Starts the cluster DNS: binds every listen address on UDP and TCP (same port), then loads the zone. */
export async function startDns(opts: DnsOptions): Promise<DnsServer> {
  const clock = opts.clock ?? realClock;
  let index: DnsIndex | undefined;
  let dirty = true;
  const onChange = () => { dirty = true; };
  const services = new ObjectCache<KubeObject>(opts.client, core('services'), { onChange });
  const slices = new ObjectCache<KubeObject>(opts.client, discovery('endpointslices'), { onChange });
  const zone = () => {
    if (!services.hasSynced || !slices.hasSynced) return undefined;
    if (dirty || !index) {
      index = buildDnsIndex(services.list(), slices.list(), opts.domain);
      dirty = false;
    }
    return index;
  };
  const handler = new DnsHandler({ zone, upstreams: opts.upstreams, clock, ...(opts.forwardTimeoutMs ? { forwardTimeoutMs: opts.forwardTimeoutMs } : {}) });
  handler.setDomain(opts.domain);
  const udp: Socket[] = [];
  const tcp: Server[] = [];
  const addresses: DnsServer['addresses'] = [];
  try {
    for (const l of opts.listen) {
      // With port 0 the UDP port is picked first; retry when that port happens to be taken on TCP.
      for (let attempt = 0; ; attempt++) {
        const u = await listenUdp(handler, l);
        const port = u.address().port;
        try {
          tcp.push(await listenTcp(handler, { address: l.address, port }));
        } catch (err) {
          u.close();
          if (l.port === 0 && attempt < 10) continue;
          throw err;
        }
        udp.push(u);
        addresses.push({ address: l.address, port, protocol: 'udp' }, { address: l.address, port, protocol: 'tcp' });
        break;
      }
    }
  } catch (err) {
    for (const u of udp) u.close();
    for (const t of tcp) t.close();
    throw new Error('starting cluster DNS listeners', { cause: err });
  }
  void services.run(opts.signal);
  void slices.run(opts.signal);
  if (opts.metricsListen) serveMetrics(handler, opts.metricsListen, opts.signal);
  const closed = new Promise<void>((resolve) => {
    const stop = () => {
      for (const u of udp) u.close();
      let open = tcp.length;
      if (!open) resolve();
      for (const t of tcp) {
        t.close(() => { if (--open === 0) resolve(); });
        for (const c of conns.get(t) ?? []) c.destroy();
      }
    };
    if (opts.signal.aborted) stop();
    else opts.signal.addEventListener('abort', stop, { once: true });
  });
  log.info('cluster DNS listening', { addresses: addresses.map((a) => `${a.protocol}://${a.address}:${a.port}`) });
  return { addresses, ready: Promise.all([services.synced, slices.synced]).then(() => undefined), closed };
}

export function metricsText(stats: DnsHandler['stats']): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(stats)) {
    const name = `tsk_dns_${k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}_total`;
    lines.push(`# TYPE ${name} counter`, `${name} ${v}`);
  }
  return lines.join('\n') + '\n';
}

function serveMetrics(h: DnsHandler, l: DnsListen, signal: AbortSignal): void {
  const srv = createHttpServer((req, res) => {
    if (req.url !== '/metrics') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metricsText(h.stats));
  });
  srv.on('error', (err) => log.warn('DNS metrics listener failed', { err: String(err) }));
  srv.listen(l.port, l.address);
  signal.addEventListener('abort', () => srv.close(), { once: true });
}
