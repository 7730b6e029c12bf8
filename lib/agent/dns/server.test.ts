// The DNS server on 127.0.0.1 port 0 with a preloaded fake client and a fake upstream on 127.0.0.1.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import * as packet from 'dns-packet';
import { FakeClient } from '../../client/fake.ts';
import { core, discovery } from '../../client/types.ts';
import { metricsText, startDns } from './server.ts';

function udpQuery(port: number, name: string, type: string, id = 7): Promise<packet.DecodedPacket & { rcode?: string }> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => { s.close(); reject(new Error('timeout')); }, 10_000);
    s.on('message', (m) => { clearTimeout(timer); s.close(); resolve(packet.decode(m)); });
    s.send(packet.encode({ type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [{ name, type: type as 'A' }] }), port, '127.0.0.1');
  });
}

function tcpQuery(port: number, name: string, type: string): Promise<packet.DecodedPacket & { rcode?: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    s.setTimeout(10_000, () => { s.destroy(); reject(new Error('timeout')); });
    s.on('error', reject);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { s.end(); resolve(packet.decode(buf.subarray(2))); }
    });
    s.write(packet.streamEncode({ type: 'query', id: 9, questions: [{ name, type: type as 'A' }] }));
  });
}

async function fakeUpstream(t: { teardown(fn: () => void): void }): Promise<{ port: number; count: () => number }> {
  const s = createSocket('udp4');
  let n = 0;
  s.on('message', (m, r) => {
    n++;
    const q = packet.decode(m);
    const name = q.questions![0]!.name;
    const res = name === 'missing.example'
      ? packet.encode({ type: 'response', id: q.id, flags: 3, questions: q.questions })
      : packet.encode({ type: 'response', id: q.id, questions: q.questions, answers: [{ type: 'A', name, ttl: 60, data: '192.0.2.1' }] });
    s.send(res, r.port, r.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  t.teardown(() => s.close());
  return { port: s.address().port, count: () => n };
}


t.test('cluster zone over UDP and TCP, forwarding with cache', async (t) => {
  const client = new FakeClient();
  client.seed(core('services'), { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
  client.seed(discovery('endpointslices'), { metadata: { name: 'x', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, ports: [], endpoints: [] });
  const up = await fakeUpstream(t);
  const ac = new AbortController();
  const dns = await startDns({ client, listen: [{ address: '127.0.0.1', port: 0 }], domain: 'cluster.local', upstreams: [`127.0.0.1:${up.port}`], signal: ac.signal });
  t.teardown(async () => { ac.abort(); await dns.closed; });
  await dns.ready;
  const port = dns.addresses[0]!.port;

  const a = await udpQuery(port, 'web.default.svc.cluster.local', 'A', 1234);
  t.equal(a.id, 1234);
  t.ok(a.flag_aa, 'authoritative');
  t.same(a.answers!.map((x) => (x as { data: string }).data), ['10.43.0.20']);

  const nx = await udpQuery(port, 'nope.default.svc.cluster.local', 'A');
  t.equal(nx.rcode, 'NXDOMAIN');
  t.equal(nx.authorities![0]!.type, 'SOA');

  const tcp = await tcpQuery(port, '_http._tcp.web.default.svc.cluster.local', 'SRV');
  t.same((tcp.answers![0] as { data: { port: number } }).data.port, 80);

  // A new service shows up through the watch.
  await client.create(core('services'), { metadata: { name: 'late', namespace: 'default' }, spec: { clusterIP: '10.43.0.30', ports: [{ port: 80 }] } }, 'default');
  let late: string[] = [];
  for (let i = 0; i < 300 && !late.length; i++) {
    late = (await udpQuery(port, 'late.default.svc.cluster.local', 'A')).answers!.map((x) => (x as { data: string }).data);
    if (!late.length) await new Promise((r) => setTimeout(r, 100));
  }
  t.same(late, ['10.43.0.30']);

  const f1 = await udpQuery(port, 'www.example.com', 'A', 1);
  const f2 = await udpQuery(port, 'www.example.com', 'A', 2);
  t.same(f1.answers!.map((x) => (x as { data: string }).data), ['192.0.2.1']);
  t.equal(f2.id, 2, 'cached answer carries the new id');
  t.equal(up.count(), 1, 'second lookup came from the cache');
  t.equal((await udpQuery(port, 'missing.example', 'A')).rcode, 'NXDOMAIN', 'upstream NXDOMAIN passed through');
  t.equal((await tcpQuery(port, 'www.example.com', 'A')).rcode, 'SERVFAIL', 'TCP forward to a UDP-only upstream fails cleanly');
});

t.test('metrics text', async (t) => {
  t.match(metricsText({ requests: 3, local: 2, nxdomain: 1, cacheHits: 0, forwarded: 1, servfail: 0 }), /^# TYPE tsk_dns_requests_total counter\ntsk_dns_requests_total 3\n[^]*tsk_dns_cache_hits_total 0\n/);
});
