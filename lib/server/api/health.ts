// /version, /healthz, /livez, /readyz (with ?verbose and per-check paths).
import type { Hono } from 'hono';
import { VERSION } from '../../config.ts';

export type HealthCheck = () => boolean | Promise<boolean>;

export function versionInfo() {
  return {
    major: VERSION.major, minor: VERSION.minor, gitVersion: VERSION.gitVersion, gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: `node${process.versions.node}`, compiler: 'tsk',
    platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function mountHealth(app: Hono, checks: { livez?: Record<string, HealthCheck>; readyz?: Record<string, HealthCheck> } = {}): void {
  app.get('/version', (c) => c.json(versionInfo()));
  for (const kind of ['healthz', 'livez', 'readyz'] as const) {
    const set: Record<string, HealthCheck> = { ping: () => true, ...(kind === 'readyz' ? checks.readyz : checks.livez) };
    const handler = async (verbose: boolean, only?: string) => {
      const names = only ? [only] : Object.keys(set);
      if (only && !set[only]) return new Response('404 page not found\n', { status: 404 });
      const lines: string[] = [];
      let ok = true;
      for (const n of names) {
        let pass = false;
        try { pass = await set[n]!(); } catch { pass = false; }
        ok &&= pass;
        lines.push(pass ? `[+]${n} ok` : `[-]${n} failed: reason withheld`);
      }
      const body = verbose || !ok ? `${lines.join('\n')}\n${kind} check ${ok ? 'passed' : 'failed'}\n` : 'ok';
      return new Response(body, { status: ok ? 200 : 500, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' } });
    };
    app.get(`/${kind}`, (c) => handler(c.req.query('verbose') !== undefined));
    app.get(`/${kind}/:check`, (c) => handler(c.req.query('verbose') !== undefined, c.req.param('check')));
  }
}
