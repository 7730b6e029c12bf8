// The in-process secure API server (TLS, with the admin kubeconfig it writes) on a memory store, its data under a temp
// dir, and the real kubectl against it: for the tests that drive it over HTTPS (admission-e2e, client-node,
// security-e2e).
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSecureServer, type SecureServer } from '../lib/server/auth/secure-server.ts';
import { MemoryStore } from '../lib/store/memory.ts';
import { tempDir, type Teardown } from './harness.ts';

/** The real kubectl is on PATH (google-cloud-sdk's dispatcher on the CI image); without it tests skip its parts. */
export const haveKubectl = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'kubectl')));

export interface KubectlRun {
  code: number;
  out: string;
  err: string;
}

export interface SecureApi {
  dir: string;
  store: MemoryStore;
  /** The admin kubeconfig the server wrote. */
  kubeconfig: string;
  srv: SecureServer;
  /** kubectl with the given kubeconfig; never throws. */
  kubectlAs(kubeconfig: string, ...args: string[]): Promise<KubectlRun>;
  /** Writes obj as JSON into the temp dir; returns its path. */
  manifest(name: string, obj: object): string;
}

/** Starts the server (node "srv", port 0) after prepare(dataDir); closed, with its store, on teardown. */
export async function startSecureApi(t: Teardown, prefix: string, prepare?: (dataDir: string) => void): Promise<SecureApi> {
  const dir = tempDir(t, prefix);
  const store = new MemoryStore();
  const kubeconfig = join(dir, 'admin.yaml');
  prepare?.(join(dir, 'data'));
  const srv = await startSecureServer({ dataDir: join(dir, 'data'), nodeName: 'srv', store, host: '127.0.0.1', port: 0, writeKubeconfig: kubeconfig });
  t.teardown(async () => {
    await srv.close();
    await store.close();
  });
  const kubectlAs = (cfg: string, ...args: string[]) => new Promise<KubectlRun>((resolve) => {
    execFile('kubectl', ['--kubeconfig', cfg, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 60_000 }, (e, out, err) => {
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: String(out), err: String(err) });
    });
  });
  const manifest = (name: string, obj: object) => {
    const p = join(dir, `${name}.json`);
    writeFileSync(p, JSON.stringify(obj));
    return p;
  };
  return { dir, store, kubeconfig, srv, kubectlAs, manifest };
}
