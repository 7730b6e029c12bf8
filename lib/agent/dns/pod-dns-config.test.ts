import t from 'tap';
import { podDnsConfig } from './pod-dns-config.ts';
import { parseResolvConf, upstreamsFrom } from './resolv-conf.ts';

const hostResolv = parseResolvConf('# host\nnameserver 192.168.1.1\nnameserver 127.0.0.53\nsearch lan example.org\noptions edns0 timeout:2\n');
const opts = { clusterDns: '10.43.0.10', domain: 'cluster.local', hostResolv };
const pod = (spec: Record<string, unknown>) => ({ metadata: { name: 'p', namespace: 'ns1' }, spec });

t.test('resolv.conf parsing and upstream selection', async (t) => {
  t.same(hostResolv, { servers: ['192.168.1.1', '127.0.0.53'], searches: ['lan', 'example.org'], options: ['edns0', 'timeout:2'] });
  t.same(upstreamsFrom('nameserver 127.0.0.53\nnameserver 10.0.0.2\n'), ['10.0.0.2']);
  t.same(upstreamsFrom('nameserver 127.0.0.53\n', 'nameserver 10.1.1.1\n'), ['10.1.1.1']);
  t.same(upstreamsFrom('nameserver ::1\n', ''), ['8.8.8.8']);
});

t.test('ClusterFirst (default policy)', async (t) => {
  t.same(podDnsConfig(pod({}), opts), {
    servers: ['10.43.0.10'],
    searches: ['ns1.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'lan', 'example.org'],
    options: ['ndots:5'],
  });
});

t.test('ClusterFirst with hostNetwork behaves like Default; ClusterFirstWithHostNet keeps cluster DNS', async (t) => {
  t.same(podDnsConfig(pod({ hostNetwork: true }), opts), { servers: ['192.168.1.1', '127.0.0.53'], searches: ['lan', 'example.org'], options: ['edns0', 'timeout:2'] });
  t.same(podDnsConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), opts).servers, ['10.43.0.10']);
});

t.test('Default and None with dnsConfig merging', async (t) => {
  t.same(podDnsConfig(pod({ dnsPolicy: 'Default' }), opts).servers, ['192.168.1.1', '127.0.0.53']);
  t.same(podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['a.b'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }), opts), {
    servers: ['1.1.1.1'], searches: ['a.b'], options: ['ndots:2', 'edns0'],
  });
  t.same(podDnsConfig(pod({ dnsConfig: { nameservers: ['1.1.1.1', '10.43.0.10'], options: [{ name: 'ndots', value: '1' }] } }), opts), {
    servers: ['10.43.0.10', '1.1.1.1'],
    searches: ['ns1.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'lan', 'example.org'],
    options: ['ndots:1'],
  });
});

t.test('no cluster DNS configured: ClusterFirst falls back to the host', async (t) => {
  t.same(podDnsConfig(pod({}), { ...opts, clusterDns: '' }).servers, ['192.168.1.1', '127.0.0.53']);
});
