// CSR signing: approved CertificateSigningRequests of the built-in signers get status.certificate; a request the
// signer refuses gets a Failed condition (reason SignerValidationFailure). The signing itself is injected
// (lib/server/pki/csr-sign.ts through ControllerContext.signCsr): controllers hold no CA keys of their own.
import type { Client, KubeObject } from '../client/types.ts';
import type { Lister } from '../controller/cache.ts';
import { Controller } from '../controller/controller.ts';
import type { ControllerContext, CsrSigner, Runnable } from './context.ts';

const csrRef = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface CsrSigningDeps {
  client: Pick<Client, 'update'>;
  csrs: Lister;
  sign: CsrSigner;
  now(): number;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export async function reconcileCsr(d: CsrSigningDeps, name: string): Promise<void> {
  const csr = d.csrs.get(name) as Obj | undefined;
  if (!csr || csr.status?.certificate) return;
  const conds: { type: string }[] = csr.status?.conditions ?? [];
  if (!conds.some((c) => c.type === 'Approved') || conds.some((c) => c.type === 'Denied' || c.type === 'Failed')) return;
  const result = await d.sign({
    request: Buffer.from(String(csr.spec?.request ?? ''), 'base64').toString('utf8'), signerName: csr.spec?.signerName ?? '',
    usages: csr.spec?.usages ?? [], expirationSeconds: csr.spec?.expirationSeconds,
  });
  if (!result) return;
  const upd = structuredClone(csr) as Obj;
  if ('certificate' in result) upd.status = { ...upd.status, certificate: Buffer.from(result.certificate).toString('base64') };
  else {
    const now = rfc3339(d.now());
    upd.status = { ...upd.status, conditions: [...conds, { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: result.failed, lastUpdateTime: now, lastTransitionTime: now }] };
  }
  await d.client.update(csrRef, upd as KubeObject, 'status');
}

export function csrSigningController(ctx: ControllerContext): Runnable {
  const sign = ctx.signCsr;
  if (!sign) return { run: async () => {} };
  const informer = ctx.factory.informer(csrRef);
  const deps: CsrSigningDeps = { client: ctx.client, csrs: informer.lister, sign, now: () => ctx.clock.now() };
  const controller = new Controller({ name: 'csrsigning', clock: ctx.clock, reconcile: (k) => reconcileCsr(deps, k) });
  controller.watch(informer);
  return { run: (signal) => controller.run(signal) };
}
