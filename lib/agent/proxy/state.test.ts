import t from 'tap';
import { buildProxyState } from './state.ts';

const svc = (name: string, spec: Record<string, unknown>, status?: Record<string, unknown>) => ({ metadata: { name, namespace: 'ns' }, spec, ...(status ? { status } : {}) });
const slice = (svcName: string, endpoints: unknown[], ports = [{ name: 'http', port: 8080, protocol: 'TCP' }]) => ({
  metadata: { name: `${svcName}-x`, namespace: 'ns', labels: { 'kubernetes.io/service-name': svcName } },
  addressType: 'IPv4', ports, endpoints,
});

t.test('ready endpoints, ports by name, locality', async (t) => {
  const st = buildProxyState({
    nodeName: 'n1', clusterCidr: '10.42.0.0/16',
    services: [svc('web', { clusterIP: '10.43.0.5', ports: [{ name: 'http', port: 80 }, { name: 'other', port: 81 }] })],
    endpointSlices: [slice('web', [
      { addresses: ['10.42.0.10'], conditions: { ready: true }, nodeName: 'n1' },
      { addresses: ['10.42.1.10'], conditions: {}, nodeName: 'n2' },
      { addresses: ['10.42.1.11'], conditions: { ready: false }, nodeName: 'n2' },
    ])],
  });
  t.equal(st.services.length, 2);
  t.same(st.services[0]!.endpoints, [{ ip: '10.42.0.10', port: 8080, local: true }, { ip: '10.42.1.10', port: 8080, local: false }]);
  t.same(st.services[1]!.endpoints, [], 'port without a matching slice port has no endpoints');
});

t.test('terminating-but-serving endpoints used only when none is ready', async (t) => {
  const st = buildProxyState({
    nodeName: 'n1',
    services: [svc('web', { clusterIP: '10.43.0.5', ports: [{ name: 'http', port: 80 }] })],
    endpointSlices: [slice('web', [
      { addresses: ['10.42.0.10'], conditions: { ready: false, serving: true, terminating: true } },
      { addresses: ['10.42.0.11'], conditions: { ready: false, serving: false, terminating: true } },
    ])],
  });
  t.same(st.services[0]!.endpoints.map((e) => e.ip), ['10.42.0.10']);
});

t.test('types, policies, affinity, load balancer ingress', async (t) => {
  const st = buildProxyState({
    nodeName: 'n1',
    services: [
      svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
      svc('ext', { type: 'ExternalName', externalName: 'example.com' }),
      svc('lb', {
        type: 'LoadBalancer', clusterIP: '10.43.0.6', externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local',
        sessionAffinity: 'ClientIP', ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }], loadBalancerSourceRanges: ['10.0.0.0/8'],
      }, { loadBalancer: { ingress: [{ ip: '192.168.1.5' }, { hostname: 'x' }] } }),
      svc('cip', { clusterIP: '10.43.0.7', ports: [{ port: 80, nodePort: 30001 }], externalTrafficPolicy: 'Local' }),
    ],
    endpointSlices: [],
  });
  t.same(st.services.map((s) => s.name), ['lb', 'cip']);
  const lb = st.services[0]!;
  t.same([lb.protocol, lb.nodePort, lb.loadBalancerIPs, lb.affinitySeconds, lb.internalLocal, lb.externalLocal], ['UDP', 30053, ['192.168.1.5'], 10800, true, true]);
  t.same(lb.sourceRanges, ['10.0.0.0/8']);
  const cip = st.services[1]!;
  t.equal(cip.nodePort, undefined, 'ClusterIP services get no node port');
  t.equal(cip.externalLocal, false);
});
