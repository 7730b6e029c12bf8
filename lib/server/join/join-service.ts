// The server side of joining: GET /cacerts (anonymous) and POST /v1-tsk/join, where an agent holding the join
// secret (basic auth node:<secret>) or a bootstrap token, plus its node password, gets its kubelet certificates
// signed from CSRs it generated itself.
import { logger } from '../../log/logger.ts';
import type { Client } from '../../client/types.ts';
import { checkBootstrapToken, safeEqual, type SecretGetter } from '../auth/authenticate.ts';
import { LEAF_VALIDITY_MS, type ServerCertificates } from '../pki/certificates.ts';
import { readCsr, signLeaf } from '../pki/x509.ts';
import { NodePasswordRejected, verifyNodePassword } from './node-password.ts';
import { CACERTS_PATH, JOIN_PATH, NODE_NAME_HEADER, NODE_PASSWORD_HEADER, type JoinRequestBody, type JoinResponseBody } from './protocol.ts';

const log = logger('server/join');

export { CACERTS_PATH, JOIN_PATH, NODE_NAME_HEADER, NODE_PASSWORD_HEADER, type JoinRequestBody, type JoinResponseBody } from './protocol.ts';

export interface JoinServiceOptions {
  certs: Pick<ServerCertificates, 'serverCaPem' | 'serverCaKey' | 'clientCaPem' | 'clientCaKey'>;
  /** The join secret (from the token); a function is asked on every join so `tsk token rotate` applies at once. */
  secret: string | (() => string | undefined);
  client: Pick<Client, 'get' | 'create'>;
  now?: () => number;
}

const NODE_NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function status(code: number, reason: string, message: string): Response {
  return Response.json({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }, { status: code });
}

export class JoinService {
  readonly #o: JoinServiceOptions;
  readonly #secrets: SecretGetter;

  constructor(o: JoinServiceOptions) {
    this.#o = o;
    this.#secrets = {
      getSecret: async (ns, name) => {
        try {
          return await o.client.get({ group: '', version: 'v1', resource: 'secrets' }, name, ns);
        } catch {
          return undefined;
        }
      },
    };
  }

  /** True for the paths this service answers; the API server calls handle() for them before authentication. */
  static handles(path: string): boolean {
    return path === CACERTS_PATH || path.startsWith('/v1-tsk/');
  }

  async handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path === CACERTS_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      return new Response(this.#o.certs.serverCaPem, { headers: { 'content-type': 'application/x-pem-file' } });
    }
    if (path === JOIN_PATH && req.method === 'POST') return this.#join(req);
    return status(404, 'NotFound', `the server could not find the requested resource`);
  }

  async #authorized(req: Request): Promise<string | undefined> {
    const auth = req.headers.get('authorization') ?? '';
    if (auth.startsWith('Basic ')) {
      const [user, ...rest] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      const secret = typeof this.#o.secret === 'function' ? this.#o.secret() : this.#o.secret;
      if (user === 'node' && secret && safeEqual(rest.join(':'), secret)) return 'node';
      return undefined;
    }
    if (auth.startsWith('Bearer ')) {
      const u = await checkBootstrapToken(auth.slice(7).trim(), this.#secrets, (this.#o.now ?? Date.now)());
      return u?.username;
    }
    return undefined;
  }

  async #join(req: Request): Promise<Response> {
    const who = await this.#authorized(req);
    if (!who) return status(401, 'Unauthorized', 'Unauthorized');
    const nodeName = req.headers.get(NODE_NAME_HEADER) ?? '';
    const password = req.headers.get(NODE_PASSWORD_HEADER) ?? '';
    if (!NODE_NAME_RE.test(nodeName)) return status(400, 'BadRequest', `header ${NODE_NAME_HEADER} must carry a valid node name`);
    if (password.length < 16) return status(400, 'BadRequest', `header ${NODE_PASSWORD_HEADER} must carry the node password`);
    let body: JoinRequestBody;
    try {
      body = (await req.json()) as JoinRequestBody;
    } catch {
      return status(400, 'BadRequest', 'join request body must be JSON');
    }
    if (body.nodeName !== nodeName) return status(400, 'BadRequest', 'nodeName in the body and the header differ');
    try {
      await verifyNodePassword(this.#o.client, nodeName, password);
    } catch (err) {
      if (err instanceof NodePasswordRejected) {
        log.warn('join refused', { node: nodeName, reason: err.message });
        return status(403, 'Forbidden', err.message);
      }
      throw err;
    }
    let clientCsr, servingCsr;
    try {
      clientCsr = await readCsr(body.clientCsr);
      servingCsr = await readCsr(body.servingCsr);
    } catch (err) {
      return status(400, 'BadRequest', `invalid certificate request: ${(err as Error).message}`);
    }
    const now = (this.#o.now ?? Date.now)();
    const times = { notBefore: new Date(now - 60_000), notAfter: new Date(now + LEAF_VALIDITY_MS) };
    const clientCert = await signLeaf({
      subject: { cn: `system:node:${nodeName}`, o: ['system:nodes'] },
      publicKey: clientCsr.publicKey,
      caCertPem: this.#o.certs.clientCaPem,
      caKey: this.#o.certs.clientCaKey.privateKey,
      usage: 'client',
      ...times,
    });
    const dnsNames = [...new Set([nodeName, 'localhost', ...servingCsr.dnsNames])];
    const ips = [...new Set(['127.0.0.1', ...servingCsr.ips])];
    const servingCert = await signLeaf({
      subject: { cn: nodeName },
      publicKey: servingCsr.publicKey,
      caCertPem: this.#o.certs.serverCaPem,
      caKey: this.#o.certs.serverCaKey.privateKey,
      usage: 'server',
      dnsNames,
      ips,
      ...times,
    });
    log.info('node joined', { node: nodeName, by: who });
    const out: JoinResponseBody = { clientCert, servingCert, serverCa: this.#o.certs.serverCaPem, clientCa: this.#o.certs.clientCaPem };
    return Response.json(out);
  }
}
