// Who is asking and what they ask for: the shapes shared by authenticators, authorizers and admission.
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What the API server knows about one request, before any body is read. */
export interface AuthnRequest {
  path: string;
  /** Lower-case header lookup. */
  header(name: string): string | undefined;
  /** The verified client certificate's subject (the TLS layer checked it against the client CA), if any. */
  clientCert?: { cn: string; o: string[] };
}

export type AuthnResult = { user: UserInfo } | { error: string } | undefined;

export interface Authenticator {
  /** undefined: no credentials of this kind; { error }: credentials present but invalid (401). */
  authenticate(req: AuthnRequest): Promise<AuthnResult>;
}

/** Kubernetes authorizer attributes (k8s.io/apiserver/pkg/authorization/authorizer.Attributes). */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  /** Non-resource requests. */
  path?: string;
  apiGroup?: string;
  apiVersion?: string;
  namespace?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export type Decision = 'allow' | 'deny' | 'noOpinion';

export interface AuthzResult {
  decision: Decision;
  reason?: string;
}

export interface Authorizer {
  authorize(a: Attributes): Promise<AuthzResult>;
}

export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
