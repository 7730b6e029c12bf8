// CertificateSigningRequests through the real registry (memory store): requester recorded, approval subresource, columns.
import t from 'tap';
import type { KubeObject } from '../../client/types.ts';
import { FakeClock } from '../../clock.ts';
import { reconcileCsr } from '../../controllers/csr-signing.ts';
import { MemoryStore } from '../../store/memory.ts';
import { createRegistry } from '../registry/index.ts';
import { certificatesigningrequests as csrs, csrCondition } from './certificates.ts';

const ref = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };
const request = Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n').toString('base64');
const csr = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
  spec: { request, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], username: 'forged', ...spec },
});
const approved = (o: KubeObject, type = 'Approved'): KubeObject => ({ ...o, status: { conditions: [{ type, status: 'True', reason: 'KubectlApprove' }] } });

async function setup(t: { teardown(fn: () => unknown): void }) {
  const store = new MemoryStore();
  t.teardown(() => store.close());
  return createRegistry({ store, clock: new FakeClock(Date.parse('2026-01-01T00:00:00Z')) });
}

t.test('create records the requester; spec is immutable; approval changes only conditions', async (t) => {
  const { registry, client } = await setup(t);
  const user = { username: 'jane', uid: 'u1', groups: ['dev', 'system:authenticated'] };
  const created = await registry.create(csrs, undefined, csr('a'), { user });
  t.match(created.spec, { username: 'jane', uid: 'u1', groups: ['dev', 'system:authenticated'] });
  t.same(created.status, {});
  t.equal(csrCondition(created), 'Pending');

  const edited = await client.update(ref, { ...created, metadata: { ...created.metadata, labels: { l: '1' } }, spec: { ...created.spec, signerName: 'x.io/y' } });
  t.equal(edited.spec!.signerName, 'kubernetes.io/kube-apiserver-client');
  t.same(edited.metadata.labels, { l: '1' });

  const a: KubeObject = await client.update(ref, { ...approved(edited), spec: { ...edited.spec, usages: ['server auth'] } }, 'approval');
  t.same(a.spec!.usages, ['client auth']);
  t.match(a.status, { conditions: [{ type: 'Approved', status: 'True', lastUpdateTime: String, lastTransitionTime: String }] });
  t.equal(csrCondition(a), 'Approved');
  await t.rejects(client.update(ref, { ...a, status: { conditions: [] } }, 'approval'), /updates may not remove a condition of type "Approved"/);
  await t.rejects(client.update(ref, { ...a, status: { conditions: [...(a.status!.conditions as object[]), { type: 'Denied', status: 'True' }] } }, 'approval'), /mutually exclusive/);
  t.equal(csrCondition({ ...a, status: { ...a.status, certificate: 'eA==' } }), 'Approved,Issued');
});

t.test('validation: request PEM, signerName, usages, expirationSeconds', async (t) => {
  const { client } = await setup(t);
  await t.rejects(client.create(ref, csr('b', { request: Buffer.from('nope').toString('base64') })), /PEM block type must be CERTIFICATE REQUEST/);
  await t.rejects(client.create(ref, csr('b', { usages: ['bogus'] })), /Unsupported value: "bogus"/);
  await t.rejects(client.create(ref, csr('b', { usages: [] })), /spec.usages: Required value/);
  await t.rejects(client.create(ref, csr('b', { expirationSeconds: 60 })), /may not specify a duration less than 600 seconds/);
  t.same(csrs.cells!(await client.create(ref, csr('b', { expirationSeconds: 7200 })), Date.parse('2026-01-01T00:00:05Z')).slice(2), ['kubernetes.io/kube-apiserver-client', '', '2h', 'Pending']);
});

t.test('signing controller: approved requests get the certificate, refused ones a Failed condition, others wait', async (t) => {
  const { client } = await setup(t);
  const store = new Map<string, KubeObject>();
  for (const o of [approved(csr('ok')), approved(csr('bad')), csr('pending'), approved(csr('denied'), 'Denied'), approved(csr('other', { signerName: 'example.com/x' }))]) {
    store.set(o.metadata.name!, await client.create(ref, o).then((c) => client.update(ref, { ...c, status: o.status }, 'status')));
  }
  const signed: string[] = [];
  const deps = {
    client, now: () => Date.parse('2026-01-01T00:00:00Z'), csrs: { get: (n: string) => store.get(n), list: () => [...store.values()] } as never,
    sign: async (r: { request: string; signerName: string }) => {
      signed.push(r.signerName);
      if (r.signerName === 'example.com/x') return undefined;
      return r.request.includes('BEGIN') && signed.length === 1 ? { certificate: 'PEM' } : { failed: 'nope' };
    },
  };
  for (const n of store.keys()) await reconcileCsr(deps, n);
  t.same(signed, ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client', 'example.com/x']);
  t.equal((await client.get(ref, 'ok')).status!.certificate, Buffer.from('PEM').toString('base64'));
  t.match((await client.get(ref, 'bad')).status!.conditions, [{ type: 'Approved' }, { type: 'Failed', reason: 'SignerValidationFailure', message: 'nope' }]);
  t.notOk((await client.get(ref, 'other')).status!.certificate);
});
