import t from 'tap';
import { staleConntrack } from './conntrack.ts';
import type { ProxyServicePort } from './types.ts';

const udp = (eps: string[], over: Partial<ProxyServicePort> = {}): ProxyServicePort => ({
  namespace: 'kube-system', name: 'dns', portName: 'dns', protocol: 'UDP', clusterIP: '10.43.0.10', port: 53,
  externalIPs: [], loadBalancerIPs: [], internalLocal: false, externalLocal: false,
  endpoints: eps.map((ip) => ({ ip, port: 53, local: false })), ...over,
});

t.test('no previous state: nothing to flush', async (t) => {
  t.same(staleConntrack(undefined, { services: [udp(['10.42.0.2'])] }), []);
});

t.test('removed endpoint is flushed by its NAT destination', async (t) => {
  t.same(staleConntrack({ services: [udp(['10.42.0.2', '10.42.0.3'], { nodePort: 30053 })] }, { services: [udp(['10.42.0.3'], { nodePort: 30053 })] }), [
    ['-D', '-p', 'udp', '--orig-dst', '10.43.0.10', '--dst-nat', '10.42.0.2'],
    ['-D', '-p', 'udp', '--orig-port-dst', '30053', '--dst-nat', '10.42.0.2'],
  ]);
});

t.test('first endpoint flushes entries to the service address; deleted service flushes its endpoints', async (t) => {
  t.same(staleConntrack({ services: [udp([])] }, { services: [udp(['10.42.0.2'])] }), [
    ['-D', '-p', 'udp', '--orig-dst', '10.43.0.10', '--orig-port-dst', '53'],
  ]);
  t.same(staleConntrack({ services: [udp(['10.42.0.2'])] }, { services: [] }), [
    ['-D', '-p', 'udp', '--orig-dst', '10.43.0.10', '--dst-nat', '10.42.0.2'],
  ]);
});

t.test('TCP services never flush', async (t) => {
  t.same(staleConntrack({ services: [udp(['10.42.0.2'], { protocol: 'TCP' })] }, { services: [] }), []);
});
