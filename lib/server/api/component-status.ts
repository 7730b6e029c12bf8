// v1 ComponentStatus (`kubectl get componentstatuses`, deprecated upstream but still served) and the health checks
// behind it and behind /livez and /readyz?verbose: the store ("etcd", as kine answers for k3s), the controller
// manager and the scheduler (both run in this process while it leads). Read-only: get and list.
import type { Context, Hono } from 'hono';
import { ApiError, type KubeObject } from '../../client/types.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { column, nameColumn } from '../resources/table.ts';
import type { Env } from './app.ts';
import type { HealthCheck } from './health.ts';
import { negotiate, shaped } from './negotiate.ts';

export const componentstatuses: ResourceStrategy = {
  group: '', versions: ['v1'], kind: 'ComponentStatus', plural: 'componentstatuses', singular: 'componentstatus', shortNames: ['cs'],
  namespaced: false, verbs: ['get', 'list'],
  columns: [nameColumn, column('Status', 'string', 0, 'Status of the component conditions'), column('Message', 'string', 0, 'Message of the component conditions'),
    column('Error', 'string', 0, 'Error of the component conditions')],
  cells(o) {
    const c = ((o as { conditions?: { type: string; status: string; message?: string; error?: string }[] }).conditions ?? []).find((x) => x.type === 'Healthy');
    const status = !c ? 'Unknown' : c.status === 'True' ? 'Healthy' : c.status === 'False' ? 'Unhealthy' : 'Unknown';
    return [o.metadata.name, status, c?.message ?? '', c?.error ?? ''];
  },
};

const WARNING = '299 - "v1 ComponentStatus is deprecated in v1.19+"';

export async function componentStatus(name: string, check: HealthCheck): Promise<KubeObject> {
  let ok = false, error = '';
  try { ok = await check(); } catch (e) { error = (e as Error).message; }
  const message = name.startsWith('etcd') ? '{"health":"true","reason":""}' : 'ok';
  const condition = ok ? { type: 'Healthy', status: 'True', message } : { type: 'Healthy', status: 'False', error: error || `${name} is not healthy` };
  return { kind: 'ComponentStatus', apiVersion: 'v1', metadata: { name }, conditions: [condition] } as KubeObject;
}

export function componentStatusRoutes(checks: Record<string, HealthCheck>): (app: Hono<Env>) => void {
  return (app) => {
    const send = (c: Context<Env>, body: KubeObject) => {
      const res = shaped(c, componentstatuses, negotiate(c), body, Date.now());
      res.headers.set('warning', WARNING);
      return res;
    };
    app.get('/api/v1/componentstatuses', async (c) => {
      const items = await Promise.all(Object.entries(checks).map(([n, f]) => componentStatus(n, f)));
      return send(c, { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items } as unknown as KubeObject);
    });
    app.get('/api/v1/componentstatuses/:name', async (c) => {
      const name = c.req.param('name');
      const f = checks[name];
      if (!f) throw new ApiError({ status: 'Failure', code: 404, reason: 'NotFound', message: `componentstatuses "${name}" not found`, details: { name, kind: 'componentstatuses' } });
      return send(c, await componentStatus(name, f));
    });
  };
}
