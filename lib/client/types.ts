// The client seam: what controllers, the scheduler and the kubelet call. Implementations: in-process (server),
// HTTPS (agents, tests), fake (unit tests). Objects are plain Kubernetes JSON objects.
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [field: string]: any;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** Identifies a resource collection: group ('' for core), version, plural resource name. */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
}

export interface ListQuery {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchQuery extends ListQuery {
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ClientWatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

export interface ClientWatch<T extends KubeObject = KubeObject> extends AsyncIterable<ClientWatchEvent<T>> {
  close(): void;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export interface Client {
  get<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, namespace?: string): Promise<T>;
  list<T extends KubeObject = KubeObject>(ref: ResourceRef, query?: ListQuery): Promise<KubeList<T>>;
  watch<T extends KubeObject = KubeObject>(ref: ResourceRef, query?: WatchQuery): Promise<ClientWatch<T>>;
  create<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, namespace?: string): Promise<T>;
  update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, subresource?: string): Promise<T>;
  patch<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, type: PatchType, patch: unknown, opts?: { namespace?: string; subresource?: string; fieldManager?: string }): Promise<T>;
  delete(ref: ResourceRef, name: string, namespace?: string, opts?: DeleteOptions): Promise<void>;
  /** POST to a subresource such as pods/binding or pods/eviction or serviceaccounts/token. */
  createSubresource<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, subresource: string, body: KubeObject, namespace?: string): Promise<T>;
}

/** Errors from any Client carry the Kubernetes Status. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly status: KubeObject;
  constructor(status: { code?: number; reason?: string; message?: string; [k: string]: unknown }) {
    super(status.message ?? `API error ${status.code}`);
    this.code = status.code ?? 500;
    this.reason = status.reason ?? 'InternalError';
    this.status = { apiVersion: 'v1', kind: 'Status', metadata: {}, ...status } as KubeObject;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409 && e.reason === 'Conflict';
export const isAlreadyExists = (e: unknown): boolean => e instanceof ApiError && e.reason === 'AlreadyExists';

export const core = (resource: string): ResourceRef => ({ group: '', version: 'v1', resource });
export const apps = (resource: string): ResourceRef => ({ group: 'apps', version: 'v1', resource });
export const batch = (resource: string): ResourceRef => ({ group: 'batch', version: 'v1', resource });
export const coordination = (resource: string): ResourceRef => ({ group: 'coordination.k8s.io', version: 'v1', resource });
export const discovery = (resource: string): ResourceRef => ({ group: 'discovery.k8s.io', version: 'v1', resource });
