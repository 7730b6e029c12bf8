// The in-process API server (plain HTTP on loopback) with the CRD controller, driven by the real kubectl from a
// temp dir: for the tests of what kubectl sends and needs that run no node.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApiServer, type ApiServer } from '../lib/server/api/server.ts';
import { startCrdController } from '../lib/server/crd/index.ts';
import { KUBECTL, tempDir, type Teardown } from './harness.ts';

export interface KubectlApi {
  server: ApiServer;
  dir: string;
  /** Runs kubectl against the server; never throws. */
  kubectl(...args: string[]): Promise<{ code: number; out: string; err: string }>;
  /** Writes a file into the temp dir and returns its path. */
  file(name: string, text: string): string;
}

export async function startKubectlApi(t: Teardown, prefix: string): Promise<KubectlApi> {
  const server = await startApiServer({});
  const ac = new AbortController();
  const crds = startCrdController({ client: server.client, catalog: server.registry.catalog, signal: ac.signal });
  const dir = tempDir(t, prefix);
  t.teardown(async () => {
    ac.abort();
    await crds.done;
    await server.close();
  });
  await crds.ready;
  writeFileSync(join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\n');
  const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir };
  const kubectl = (...args: string[]) => new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(KUBECTL, ['--server', server.url, '--cache-dir', join(dir, 'cache'), ...args], { env, timeout: 60_000 }, (e, out, err) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err });
    });
  });
  const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
  return { server, dir, kubectl, file };
}
