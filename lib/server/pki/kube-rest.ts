// A minimal Client over HTTPS for the CLI (`tsk token ...`): get/list/create/delete with the admin kubeconfig,
// verifying the server against the kubeconfig's CA and authenticating with its client certificate.
import { ApiError, type Client, type KubeList, type KubeObject, type ListQuery, type ResourceRef } from '../../client/types.ts';
import { httpsRequest } from './https-request.ts';
import { readKubeconfig, type KubeconfigCredentials } from './kubeconfig.ts';

export type RestClient = Pick<Client, 'get' | 'list' | 'create' | 'delete'>;

function path(ref: ResourceRef, namespace?: string, name?: string): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  return `${base}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${ref.resource}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export function restClient(creds: KubeconfigCredentials): RestClient {
  const call = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await httpsRequest({
      url: creds.server.replace(/\/$/, '') + p,
      method,
      ca: creds.caPem,
      cert: creds.certPem,
      key: creds.keyPem,
      headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    let json: Record<string, unknown> | undefined;
    try {
      json = res.json();
    } catch { /* not JSON */ }
    if (res.status >= 300) throw new ApiError({ code: res.status, ...(json ?? { message: res.text() || `HTTP ${res.status}` }) });
    return json as T;
  };
  return {
    get: <T extends KubeObject>(ref: ResourceRef, name: string, namespace?: string) => call<T>('GET', path(ref, namespace, name)),
    list: <T extends KubeObject>(ref: ResourceRef, q: ListQuery = {}) => {
      const qs = new URLSearchParams();
      if (q.labelSelector) qs.set('labelSelector', q.labelSelector);
      if (q.fieldSelector) qs.set('fieldSelector', q.fieldSelector);
      return call<KubeList<T>>('GET', path(ref, q.namespace) + (qs.size ? `?${qs}` : ''));
    },
    create: <T extends KubeObject>(ref: ResourceRef, obj: T, namespace?: string) => call<T>('POST', path(ref, namespace ?? obj.metadata.namespace), obj),
    delete: async (ref: ResourceRef, name: string, namespace?: string) => {
      await call('DELETE', path(ref, namespace, name));
    },
  };
}

export function restClientFromKubeconfig(file: string): { client: RestClient; creds: KubeconfigCredentials } {
  const creds = readKubeconfig(file);
  return { client: restClient(creds), creds };
}
