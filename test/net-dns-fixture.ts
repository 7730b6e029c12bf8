// Test fixture (run inside a network namespace by net-dns.test.ts): the cluster DNS server with a preloaded fake
// client, listening on the address given as argv[2], port 53. Prints "ready" when it answers.
import { FakeClient } from '../lib/client/fake.ts';
import { core } from '../lib/client/types.ts';
import { startDns } from '../lib/agent/dns/server.ts';

const client = new FakeClient();
client.seed(core('services'), { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
const ac = new AbortController();
process.on('SIGTERM', () => ac.abort());
const dns = await startDns({ client, listen: [{ address: process.argv[2]!, port: 53 }], domain: 'cluster.local', upstreams: ['127.0.0.1:9'], signal: ac.signal, forwardTimeoutMs: 200 });
await dns.ready;
console.log('ready');
await dns.closed;
