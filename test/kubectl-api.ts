// The in-process API server (plain HTTP on loopback), with the CRD controller unless told otherwise, driven by the
// real kubectl from a temp dir: for the tests of what kubectl sends and needs that run no node (api-kubectl,
// kubectl-extensions, openapi-kubectl, ssa-e2e).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { startApiServer, type ApiServer } from '../lib/server/api/server.ts';
import { startCrdController } from '../lib/server/crd/index.ts';
import { KUBECTL, tempDir, type Teardown } from './harness.ts';

export interface KubectlRun {
  code: number;
  out: string;
  err: string;
}

export interface KubectlApi {
  server: ApiServer;
  dir: string;
  /** The arguments that point kubectl at the server, and its environment: for spawning it yourself. */
  base: string[];
  env: NodeJS.ProcessEnv;
  /** Runs kubectl against the server; never throws. */
  kubectl(...args: string[]): Promise<KubectlRun>;
  /** kubectl with extra environment variables (KUBE_EDITOR, ...); never throws. */
  run(args: string[], extraEnv?: Record<string, string>): Promise<KubectlRun>;
  /** kubectl that should succeed (a failed t.equal on its exit code otherwise); returns its stdout. */
  ok(t: Pick<Test, 'equal'>, args: string[], extraEnv?: Record<string, string>): Promise<string>;
  /** Writes a file into the temp dir and returns its path. */
  file(name: string, text: string): string;
}

export interface KubectlApiOptions {
  /** Run the CRD controller (default true). */
  crds?: boolean;
  /** kubectl's --request-timeout. */
  requestTimeout?: string;
}

export async function startKubectlApi(t: Teardown, prefix: string, o: KubectlApiOptions = {}): Promise<KubectlApi> {
  const server = await startApiServer({});
  const ac = new AbortController();
  const crds = o.crds === false ? undefined : startCrdController({ client: server.client, catalog: server.registry.catalog, signal: ac.signal });
  const dir = tempDir(t, prefix);
  t.teardown(async () => {
    ac.abort();
    await crds?.done;
    await server.close();
  });
  await crds?.ready;
  writeFileSync(join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\n');
  const base = ['--server', server.url, '--cache-dir', join(dir, 'cache'), ...(o.requestTimeout ? ['--request-timeout', o.requestTimeout] : [])];
  const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir };
  const run = (args: string[], extraEnv: Record<string, string> = {}) => new Promise<KubectlRun>((resolve) => {
    execFile(KUBECTL, [...base, ...args], { env: { ...env, ...extraEnv }, timeout: 60_000 }, (e, out, err) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err });
    });
  });
  const ok = async (t: Pick<Test, 'equal'>, args: string[], extraEnv?: Record<string, string>) => {
    const r = await run(args, extraEnv);
    t.equal(r.code, 0, `kubectl ${args.join(' ')} ${r.err}`);
    return r.out;
  };
  const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
  return { server, dir, base, env, kubectl: (...args) => run(args), run, ok, file };
}
