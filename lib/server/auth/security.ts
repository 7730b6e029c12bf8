// Wires the security layer into the API app: the ApiHooks (authenticate, authorize, admit), the routes it owns
// (/cacerts, /v1-tsk/join, access reviews) and the serviceaccounts/token handler. run.ts creates one per server.
import type { IncomingMessage } from 'node:http';
import type { Context, Hono } from 'hono';
import { ApiError, isNotFound, type Client, type KubeObject } from '../../client/types.ts';
import { logger } from '../../log/logger.ts';
import type { Env, SubresourceHandler } from '../api/app.ts';
import type { ApiHooks, AdmissionAttributes } from '../api/hooks.ts';
import { readBody, readObject } from '../api/request.ts';
import { decodeReview } from './review-protobuf.ts';
import { JoinService } from '../join/join-service.ts';
import { runNodePasswordCleanup } from '../join/node-password-cleanup.ts';
import type { ServerCertificates } from '../pki/certificates.ts';
import { verifiedClientCert } from '../pki/serve-tls.ts';
import { forbidden } from '../registry/errors.ts';
import type { ResourceCatalog } from '../resources/catalog.ts';
import { reconcileAggregation } from './aggregation.ts';
import { authenticateRequest, bootstrapTokenAuthenticator, isPublicPath, x509Authenticator } from './authenticate.ts';
import { NodeAuthorizer, nodeNameOf, nodeRestriction } from './node-authorizer.ts';
import { cachedRbacAuthorizer, RbacCache } from './rbac-cache.ts';
import { privilegedGroupAuthorizer, RbacAuthorizer, unionAuthorizer, type PolicyRule } from './rbac.ts';
import { checkEscalation } from './escalation.ts';
import { localSubjectAccessReview, selfSubjectAccessReview, selfSubjectReview, selfSubjectRulesReview, subjectAccessReview, tokenReview } from './reviews.ts';
import { ServiceAccountTokens, type ObjectLookup } from './service-account-token.ts';
import { forbiddenStatus, unauthorizedStatus, type StatusBody } from './status.ts';
import { requestAttributes } from './request-info.ts';
import { impersonate } from './impersonation.ts';
import { createTokenRequest } from './token-request.ts';
import { admissionPlugins, clientLookup } from '../admission/index.ts';
import { admissionWarningsMiddleware } from '../admission/warnings.ts';
import type { Admit } from '../registry/admission.ts';
import { ANONYMOUS, type Authenticator, type Authorizer, type UserInfo } from './types.ts';

const log = logger('server/auth');

export interface SecurityOptions {
  certs: Pick<ServerCertificates, 'serverCaPem' | 'serverCaKey' | 'clientCaPem' | 'clientCaKey' | 'serviceAccountKey'>;
  /** In-process client over the registry (lookups, RBAC cache, bootstrap policy). */
  client: Client;
  /** The node join secret; a function is asked per join so `tsk token rotate` applies at once. */
  joinSecret: string | (() => string | undefined);
  now?: () => number;
}

const coreRef = (resource: string) => ({ group: '', version: 'v1', resource });

async function getOrUndefined(client: Client, resource: string, namespace: string, name: string): Promise<KubeObject | undefined> {
  try {
    return await client.get(coreRef(resource), name, namespace || undefined);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

const JOIN_PREFIX = '/v1-tsk/';

/**
 * The verified client certificate of a request, parsed once per TLS connection (getPeerCertificate builds a new
 * object on every call): later requests on a keep-alive connection reuse the identity proven at the handshake.
 */
const certOfSocket = new WeakMap<object, { cn: string; o: string[] } | null>();
function connectionCert(env: unknown): { cn: string; o: string[] } | undefined {
  const sock = (env as { incoming?: { socket?: object } } | undefined)?.incoming?.socket;
  if (!sock) return verifiedClientCert(env);
  const known = certOfSocket.get(sock);
  if (known !== undefined) return known ?? undefined;
  const cert = verifiedClientCert(env);
  certOfSocket.set(sock, cert ?? null);
  return cert;
}

const STREAMING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

export class Security {
  readonly rbac: RbacCache;
  readonly tokens: ServiceAccountTokens;
  readonly authenticators: Authenticator[];
  readonly authorizer: Authorizer;
  readonly join: JoinService;
  readonly #client: Client;
  readonly #lookup: ObjectLookup;
  /** LimitRanger, PodSecurity, Priority, ResourceQuota (lib/server/admission). */
  readonly #plugins: Admit;

  constructor(o: SecurityOptions) {
    this.#client = o.client;
    this.#lookup = { get: (r, ns, n) => getOrUndefined(o.client, r, ns, n) };
    this.#plugins = admissionPlugins(clientLookup(o.client));
    this.tokens = new ServiceAccountTokens({ keys: o.certs.serviceAccountKey, now: o.now }, this.#lookup);
    this.authenticators = [
      x509Authenticator,
      this.tokens,
      bootstrapTokenAuthenticator({ getSecret: (ns, n) => getOrUndefined(o.client, 'secrets', ns, n) }, { pathPrefixes: [JOIN_PREFIX], now: o.now }),
    ];
    this.rbac = new RbacCache(o.client);
    const nodes = new NodeAuthorizer({
      podsOnNode: async (node) => (await o.client.list(coreRef('pods'), { fieldSelector: `spec.nodeName=${node}` })).items,
      claim: (ns, name) => getOrUndefined(o.client, 'persistentvolumeclaims', ns, name),
      volume: (name) => getOrUndefined(o.client, 'persistentvolumes', '', name),
    });
    this.authorizer = unionAuthorizer([privilegedGroupAuthorizer, nodes, cachedRbacAuthorizer(new RbacAuthorizer(this.rbac), this.rbac)]);
    this.join = new JoinService({ certs: o.certs, secret: o.joinSecret, client: o.client, now: o.now });
  }

  /** Starts the RBAC cache and the ClusterRole aggregation that follows it. Bootstrap policy is run.ts's call. */
  start(signal: AbortSignal): Promise<void> {
    let pending: ReturnType<typeof setTimeout> | undefined;
    this.rbac.onChange((kind) => {
      if (kind !== 'clusterroles' || pending || signal.aborted) return;
      pending = setTimeout(() => {
        pending = undefined;
        reconcileAggregation(this.#client).catch((err) => log.warn('aggregating ClusterRoles failed', { err: String(err) }));
      }, 100);
    });
    signal.addEventListener('abort', () => pending && clearTimeout(pending), { once: true });
    this.rbac.start(signal);
    void runNodePasswordCleanup(this.#client, signal);
    return this.rbac.ready;
  }

  /** The hooks for createApiApp / startApiServer. */
  hooks(): ApiHooks {
    return {
      authenticate: async (req: Request, c: Context) => {
        const path = new URL(req.url).pathname;
        const r = await authenticateRequest(this.authenticators, {
          path,
          header: (n) => req.headers.get(n) ?? undefined,
          clientCert: connectionCert(c.env),
        });
        if ('error' in r) {
          if (JoinService.handles(path)) return { user: ANONYMOUS }; // the join service checks its own credentials
          log.debug('authentication failed', { path, reason: r.error });
          return r;
        }
        // Impersonate-* header names from the Node request when there is one: listing the web Headers' keys would
        // build a full Headers object on every request.
        const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
        const headers = incoming ? { get: (n: string) => req.headers.get(n), keys: () => Object.keys(incoming.headers) } : req.headers;
        const as = await impersonate(r.user, headers, this.authorizer);
        return { user: as ?? r.user };
      },
      authorize: async (a) => {
        const path = a.path ?? '';
        if (JoinService.handles(path)) return { decision: 'allow' };
        if (a.user.username === ANONYMOUS.username && isPublicPath(path)) return { decision: 'allow' };
        const d = await this.authorizer.authorize(a);
        // Refuse here with Kubernetes' exact wording and details (group-qualified resource, subresource in the text).
        if (d.decision !== 'allow') throw new ApiError(forbiddenStatus(a, d.reason) as never);
        return d;
      },
      admit: (a) => this.admit(a),
    };
  }

  /**
   * Authentication and authorization for requests that bypass the hono app (WebSocket/SPDY upgrades for exec,
   * attach, port-forward on the listener's 'upgrade' event). Returns the user, or the Status to answer with.
   */
  async checkUpgrade(req: IncomingMessage): Promise<{ user: UserInfo } | { status: StatusBody }> {
    const url = req.url ?? '/';
    const path = new URL(url, 'http://x').pathname;
    const get = (n: string) => {
      const v = req.headers[n.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    const r = await authenticateRequest(this.authenticators, { path, header: get, clientCert: verifiedClientCert({ incoming: req }) });
    if ('error' in r) return { status: unauthorizedStatus() };
    try {
      const headers = { get: (n: string) => get(n) ?? null, keys: () => Object.keys(req.headers) };
      const user = (await impersonate(r.user, headers, this.authorizer)) ?? r.user;
      const a = { ...requestAttributes(req.method ?? 'GET', url), user };
      const d = await this.authorizer.authorize(a);
      if (d.decision !== 'allow') return { status: forbiddenStatus(a, d.reason) };
      // As Kubernetes 1.31+ (AuthorizePodWebsocketUpgradeCreatePermission, on by default): a WebSocket upgrade, a
      // GET, to exec, attach or portforward also needs `create`, which the POST (SPDY) form is authorized with.
      if (a.verb === 'get' && a.resource === 'pods' && STREAMING_SUBRESOURCES.has(a.subresource ?? '')) {
        const c = { ...a, verb: 'create' };
        const dc = await this.authorizer.authorize(c);
        if (dc.decision !== 'allow') return { status: forbiddenStatus(c, dc.reason) };
      }
      return { user };
    } catch (err) {
      if (err instanceof ApiError) return { status: err.status as unknown as StatusBody };
      throw err;
    }
  }

  async admit(a: AdmissionAttributes): Promise<void> {
    await this.#plugins(a);
    if (!a.user) return;
    if (a.group === 'rbac.authorization.k8s.io' && !a.subresource && (a.operation === 'CREATE' || a.operation === 'UPDATE')) {
      const why = await checkEscalation(this.authorizer, {
        user: a.user, resource: a.resource, namespace: a.namespace, object: a.object,
        roleRules: (kind, name, ns) => ((kind === 'ClusterRole' ? this.rbac.clusterRole(name) : this.rbac.role(ns, name))?.rules as PolicyRule[] | undefined),
      });
      if (why) {
        const name = a.name ?? a.object?.metadata.name;
        throw forbidden(`${a.resource}.${a.group} ${JSON.stringify(name)} is forbidden: ${why}`);
      }
    }
    const verb = a.operation === 'CREATE' ? 'create' : a.operation === 'DELETE' ? 'delete' : a.operation === 'UPDATE' ? 'update' : 'connect';
    const why = nodeRestriction(
      { user: a.user, verb, resourceRequest: true, apiGroup: a.group, apiVersion: a.version, resource: a.resource, subresource: a.subresource, namespace: a.namespace, name: a.name },
      a.object,
      a.oldObject,
    );
    if (!why) return;
    const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
    const name = a.name ?? a.object?.metadata.name;
    throw forbidden(name ? `${qualified} ${JSON.stringify(name)} is forbidden: ${why}` : `${qualified} is forbidden: ${why}`);
  }

  /** Routes to mount before the resource routes (ApiAppOptions.routes). */
  routes(app: Hono<Env>): void {
    const join = (c: Context<Env>) => this.join.handle(c.req.raw);
    app.use('*', admissionWarningsMiddleware); // Warning headers from admission (PodSecurity warn)
    app.get('/cacerts', join);
    app.get('/ping', () => new Response('pong', { headers: { 'content-type': 'text/plain' } })); // k3s's liveness probe for agents
    app.get('/.well-known/openid-configuration', (c) => c.json(this.tokens.openidConfiguration()));
    app.get('/openid/v1/jwks', async (c) => new Response(JSON.stringify(await this.tokens.jwks()), { headers: { 'content-type': 'application/jwk-set+json' } }));
    app.all('/v1-tsk/*', join);
    const user = (c: Context<Env>): UserInfo => c.get('user');
    // Reviews arrive as protobuf from kubectl; decode those here, JSON and YAML through the API's reader.
    const readReview = async (c: Context<Env>): Promise<KubeObject> => {
      if (!(c.req.header('content-type') ?? '').startsWith('application/vnd.kubernetes.protobuf')) return readObject(c);
      try {
        return decodeReview(await readBody(c));
      } catch (err) {
        throw new ApiError({ status: 'Failure', code: 400, reason: 'BadRequest', message: `invalid protobuf body: ${(err as Error).message}` });
      }
    };
    const created = (body: KubeObject) => Response.json(body, { status: 201 });
    const A = '/apis/authorization.k8s.io/v1';
    app.post(`${A}/selfsubjectaccessreviews`, async (c) => created(await selfSubjectAccessReview(user(c), await readReview(c), this.authorizer)));
    app.post(`${A}/selfsubjectrulesreviews`, async (c) => created(selfSubjectRulesReview(user(c), await readReview(c), this.rbac)));
    app.post(`${A}/subjectaccessreviews`, async (c) => created(await subjectAccessReview(await readReview(c), this.authorizer)));
    app.post(`${A}/namespaces/:ns/localsubjectaccessreviews`, async (c) => {
      const body = await readReview(c);
      const ns = c.req.param('ns');
      if (body.spec?.resourceAttributes?.namespace !== ns) throw new ApiError({ status: 'Failure', code: 400, reason: 'BadRequest', message: `spec.resourceAttributes.namespace must match namespace: ${ns}` });
      return created(await localSubjectAccessReview(body, this.authorizer));
    });
    app.post('/apis/authentication.k8s.io/v1/selfsubjectreviews', async (c) => created(selfSubjectReview(user(c))));
    app.post('/apis/authentication.k8s.io/v1/tokenreviews', async (c) => created(await tokenReview(await readReview(c), this.authenticators)));
  }

  /**
   * Handlers for ApiAppOptions.subresourceHandlers. serviceaccounts/token over HTTP adds NodeRestriction (a node's
   * tokens must be bound to a pod on that node, running as that service account); in-process callers reach the
   * same TokenRequest through the catalog (installTokenSubresource).
   */
  subresourceHandlers(): Record<string, SubresourceHandler> {
    return {
      'serviceaccounts/token': async (c, r) => {
        if (c.req.method !== 'POST') throw new ApiError({ status: 'Failure', code: 405, reason: 'MethodNotAllowed', message: 'the server does not allow this method on the requested resource (serviceaccounts/token)' });
        const body = await readObject(c);
        const namespace = r.namespace ?? 'default';
        const name = r.name ?? '';
        const node = nodeNameOf(c.get('user'));
        if (node) {
          const refuse = (why: string) => forbidden(`serviceaccounts ${JSON.stringify(name)} is forbidden: ${why}`);
          const ref = body.spec?.boundObjectRef as { kind?: string; name?: string } | undefined;
          if (ref?.kind !== 'Pod' || !ref.name) throw refuse('node requested token not bound to a pod');
          const pod = await this.#lookup.get('pods', namespace, ref.name);
          if (!pod || pod.spec?.nodeName !== node) throw refuse('node requested token bound to a pod scheduled on a different node');
          if ((pod.spec?.serviceAccountName || 'default') !== name) throw refuse('node requested token bound to a pod running as a different service account');
        }
        const out = await createTokenRequest({ tokens: this.tokens, lookup: this.#lookup, namespace, name, body });
        return Response.json(out, { status: 201 });
      },
    };
  }

  /**
   * Gives this registry's serviceaccounts strategy its token subresource (TokenRequest), so HTTP callers and
   * in-process ones (the server's kubelet) reach the same handler. The catalog is per registry.
   */
  installTokenSubresource(catalog: ResourceCatalog): void {
    const sa = catalog.byResource('', 'serviceaccounts');
    if (!sa) return;
    const subresources = (sa.subresources ?? []).filter((x) => x.name !== 'token');
    subresources.push({
      name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'],
      create: (req) => createTokenRequest({ tokens: this.tokens, lookup: this.#lookup, namespace: req.namespace ?? 'default', name: req.name, body: req.body }),
    });
    catalog.add({ ...sa, subresources });
  }
}
