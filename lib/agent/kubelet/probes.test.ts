// The default probe runner against real listeners on 127.0.0.1: httpGet, tcpSocket and gRPC health checks.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { createServer, type AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { healthService } from '../cri/grpc.ts';
import { defaultProbeRunner } from './probes.ts';
import type { ContainerSpec } from './pod-types.ts';

const container: ContainerSpec = { name: 'c', image: 'x', ports: [{ name: 'web', containerPort: 1 }] } as ContainerSpec;
const run = defaultProbeRunner({ execSync: async () => ({ exit_code: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }) });
const target = { containerId: 'id', podIP: '127.0.0.1', container };

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

t.test('gRPC probes ask grpc.health.v1 Health/Check; only SERVING passes', async (t) => {
  const server = new grpc.Server();
  const statuses: Record<string, string> = { '': 'SERVING', db: 'NOT_SERVING' };
  server.addService(healthService(), {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const status = statuses[call.request.service];
      if (!status) cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      else cb(null, { status });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  t.teardown(() => server.forceShutdown());
  t.same(await run({ grpc: { port } }, target), { result: 'success' });
  t.same(await run({ grpc: { port, service: 'db' } }, target), { result: 'failure', message: 'service unhealthy (responded with "NOT_SERVING")' });
  t.match(await run({ grpc: { port, service: 'other' } }, target), { result: 'failure', message: /^error: health rpc probe failed: .*unknown service/ });
  const closed = await closedPort();
  t.match(await run({ grpc: { port: closed }, timeoutSeconds: 1 }, target), { result: 'failure', message: new RegExp(`^timeout: failed to connect service "127.0.0.1:${closed}" within 1s`) });
});

t.test('httpGet passes on 2xx/3xx and tcpSocket on a connection', async (t) => {
  const http = createHttpServer((req, res) => { res.statusCode = req.url === '/ok' ? 200 : 500; res.end(); });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  t.teardown(() => http.close());
  const port = (http.address() as AddressInfo).port;
  t.same(await run({ httpGet: { port, path: '/ok' } }, target), { result: 'success' });
  t.same(await run({ httpGet: { port, path: '/bad' } }, target), { result: 'failure', message: 'HTTP probe failed with statuscode: 500' });
  t.same(await run({ tcpSocket: { port } }, target), { result: 'success' });
  t.match(await run({ tcpSocket: { port: await closedPort() } }, target), { result: 'failure' });
});
