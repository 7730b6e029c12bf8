import t from 'tap';
import { answer, buildDnsIndex } from './records.ts';

const services = [
  { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 81 }] } },
  { metadata: { name: 'db', namespace: 'data' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] } },
  { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.com.' } },
];
const slices = [
  {
    metadata: { name: 'db-1', namespace: 'data', labels: { 'kubernetes.io/service-name': 'db' } },
    ports: [{ name: 'pg', port: 5433, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.42.1.5'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.42.2.6'], conditions: { ready: true } },
      { addresses: ['10.42.2.7'], hostname: 'db-2', conditions: { ready: false } },
    ],
  },
];
const idx = buildDnsIndex(services, slices, 'cluster.local');
const q = (name: string, type = 'A') => answer(idx, { name, type: type as 'A' });
const data = (a: ReturnType<typeof q>) => a?.answers.map((x) => (x as { data: unknown }).data);

t.test('service A records: cluster IP, headless ready endpoints, case-insensitive, trailing dot', async (t) => {
  t.same(data(q('web.default.svc.cluster.local')), ['10.43.0.20']);
  t.same(data(q('WEB.Default.svc.cluster.local.')), ['10.43.0.20']);
  t.equal(q('WEB.Default.svc.cluster.local.')!.answers[0]!.name, 'WEB.Default.svc.cluster.local.', 'answer echoes the question name');
  t.same(data(q('db.data.svc.cluster.local')), ['10.42.1.5', '10.42.2.6']);
});

t.test('AAAA for an IPv4 service is NODATA with SOA', async (t) => {
  const a = q('web.default.svc.cluster.local', 'AAAA')!;
  t.equal(a.rcode, 'NOERROR');
  t.same(a.answers, []);
  t.equal(a.authorities[0]!.type, 'SOA');
});

t.test('SRV for named ports, headless endpoint targets with A additionals', async (t) => {
  const a = q('_http._tcp.web.default.svc.cluster.local', 'SRV')!;
  t.same(data(a), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
  const h = q('_pg._tcp.db.data.svc.cluster.local', 'SRV')!;
  t.same(data(h), [
    { priority: 0, weight: 100, port: 5433, target: 'db-0.db.data.svc.cluster.local' },
    { priority: 0, weight: 100, port: 5433, target: '10-42-2-6.db.data.svc.cluster.local' },
  ]);
  t.same(h.additionals.map((x) => [x.name, (x as { data: string }).data]), [['db-0.db.data.svc.cluster.local', '10.42.1.5'], ['10-42-2-6.db.data.svc.cluster.local', '10.42.2.6']]);
  t.equal(q('_nope._tcp.web.default.svc.cluster.local', 'SRV')!.rcode, 'NXDOMAIN');
});

t.test('hostname.subdomain and dashed endpoint names; pod A records', async (t) => {
  t.same(data(q('db-0.db.data.svc.cluster.local')), ['10.42.1.5']);
  t.same(data(q('10-42-2-6.db.data.svc.cluster.local')), ['10.42.2.6']);
  t.equal(q('db-2.db.data.svc.cluster.local')!.rcode, 'NXDOMAIN', 'not-ready endpoint is not published');
  t.same(data(q('10-42-0-9.default.pod.cluster.local')), ['10.42.0.9']);
  t.equal(q('10-42-0-999.default.pod.cluster.local')!.rcode, 'NXDOMAIN');
});

t.test('ExternalName is a CNAME', async (t) => {
  t.same(q('ext.default.svc.cluster.local')!.answers.map((x) => [x.type, (x as { data: string }).data]), [['CNAME', 'example.com']]);
});

t.test('NXDOMAIN with SOA; NODATA for existing intermediate names', async (t) => {
  const nx = q('nope.default.svc.cluster.local')!;
  t.equal(nx.rcode, 'NXDOMAIN');
  t.same(nx.authorities.map((a) => a.type), ['SOA']);
  t.equal(q('foo.cluster.local')!.rcode, 'NXDOMAIN');
  t.equal(q('default.svc.cluster.local')!.rcode, 'NOERROR');
  t.equal(q('svc.cluster.local')!.rcode, 'NOERROR');
  t.equal(q('nons.svc.cluster.local')!.rcode, 'NXDOMAIN');
  t.equal(q('cluster.local', 'SOA')!.answers[0]!.type, 'SOA');
});

t.test('PTR for service and headless endpoint IPs; other names are forwarded', async (t) => {
  t.same(data(q('20.0.43.10.in-addr.arpa', 'PTR')), ['web.default.svc.cluster.local']);
  t.same(data(q('5.1.42.10.in-addr.arpa', 'PTR')), ['db-0.db.data.svc.cluster.local']);
  t.equal(q('8.8.8.8.in-addr.arpa', 'PTR'), undefined);
  t.equal(q('example.com'), undefined);
});
