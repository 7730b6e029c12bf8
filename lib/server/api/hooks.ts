// Seams the security layer fills: authentication, authorization and admission. Defaults allow everything.
import type { Context } from 'hono';
import type { Attributes, AuthzResult, UserInfo } from '../auth/types.ts';
import type { Admit } from '../registry/admission.ts';

export type { Admit, AdmissionAttributes } from '../registry/admission.ts';

export interface ApiHooks {
  /** Identify the caller; { error } answers 401. Default: a cluster admin (system:admin in system:masters). */
  authenticate?(req: Request, c: Context): Promise<{ user: UserInfo } | { error: string }>;
  /** Decide a request; anything but 'allow' answers 403. Default: allow. */
  authorize?(a: Attributes): Promise<AuthzResult>;
  /** Admission chain run by the registry on every write (also for in-process clients). */
  admit?: Admit;
}

export const DEFAULT_USER: UserInfo = { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
