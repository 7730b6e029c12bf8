// The admission seam called by the registry on every write (HTTP and in-process alike). Mutating plugins change
// `object` in place; validating ones throw an ApiError (403 Forbidden or 422 Invalid).
import type { KubeObject } from '../../client/types.ts';
import type { UserInfo } from '../auth/types.ts';

export interface AdmissionAttributes {
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  group: string;
  version: string;
  resource: string;
  subresource?: string;
  kind: string;
  namespace?: string;
  name?: string;
  object?: KubeObject;
  oldObject?: KubeObject;
  user?: UserInfo;
  dryRun: boolean;
}

export type Admit = (a: AdmissionAttributes) => Promise<void>;

/** Per-request options of a write. */
export interface WriteContext {
  dryRun?: boolean;
  user?: UserInfo;
  fieldManager?: string;
  /** The request's User-Agent: names the manager of a non-apply write without fieldManager. */
  userAgent?: string;
  /** Server-side apply: take fields other managers own instead of answering 409. */
  force?: boolean;
  /** The subresource the write came through when the registry sees a main-resource write (scale). */
  subresource?: string;
  /** Set by server-side apply: the managedFields the written object carries (otherwise the stored ones stay). */
  managedFields?: unknown[];
}
