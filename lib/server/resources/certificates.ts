// certificates.k8s.io/v1 CertificateSigningRequest: what `kubectl certificate approve|deny` and `kubectl get csr`
// use. The requester is recorded at create (spec.username, groups, uid, extra); the approval subresource changes only
// the Approved/Denied conditions; the signer (lib/controllers/csr-signing.ts) writes status.certificate.
import type { KubeObject } from '../../client/types.ts';
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy, StatusCause } from './types.ts';
import { invalid, notSupported, required, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Condition { type?: string; status?: string; reason?: string; message?: string; lastUpdateTime?: string; lastTransitionTime?: string }

const USAGES = ['signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment',
  'cert sign', 'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing', 'email protection',
  's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing', 'microsoft sgc', 'netscape sgc'];

function validateConditions(conds: Condition[], old: Condition[] | undefined, field = 'status.conditions'): StatusCause[] {
  const out: StatusCause[] = [];
  const seen = new Set<string>();
  conds.forEach((c, i) => {
    if (!c.type) out.push(required(`${field}[${i}].type`));
    else if (['Approved', 'Denied'].includes(c.type) && seen.has(c.type)) {
      out.push({ field: `${field}[${i}].type`, reason: 'FieldValueDuplicate', message: `Duplicate value: "${c.type}"` });
    }
    if (c.type) seen.add(c.type);
    if (['Approved', 'Denied', 'Failed'].includes(c.type ?? '') && c.status !== 'True') out.push(notSupported(`${field}[${i}].status`, c.status ?? '', ['True']));
  });
  if (seen.has('Approved') && seen.has('Denied')) out.push(invalid(field, conds, 'Approved and Denied conditions are mutually exclusive'));
  for (const t of ['Approved', 'Denied']) {
    if ((old ?? []).some((c) => c.type === t) && !seen.has(t)) out.push({ field, reason: 'FieldValueForbidden', message: `Forbidden: updates may not remove a condition of type "${t}"` });
  }
  return out;
}

/** Conditions stamped with the times upstream fills when a client leaves them empty. */
function stamp(conds: Condition[], old: Condition[], now: string): Condition[] {
  return conds.map((c) => {
    const prev = old.find((o) => o.type === c.type);
    return { ...c, lastUpdateTime: c.lastUpdateTime || now, lastTransitionTime: c.lastTransitionTime || (prev?.status === c.status ? prev?.lastTransitionTime : undefined) || now };
  });
}

const nowRfc3339 = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** The CONDITION column: Denied | Approved | Pending, then ",Failed" and ",Issued" (upstream's extractCSRStatus). */
export function csrCondition(o: KubeObject): string {
  const types = new Set(((o as Obj).status?.conditions ?? []).map((c: Condition) => c.type));
  let s = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) s += ',Failed';
  if ((o as Obj).status?.certificate) s += ',Issued';
  return s;
}

/** duration.ShortHumanDuration. */
function shortDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  if (seconds < 86400 * 365) return `${Math.floor(seconds / 86400)}d`;
  return `${Math.floor(seconds / 86400 / 365)}y`;
}

export const certificatesigningrequests: ResourceStrategy = {
  group: 'certificates.k8s.io', versions: ['v1'], generation: false, kind: 'CertificateSigningRequest', plural: 'certificatesigningrequests', singular: 'certificatesigningrequest',
  shortNames: ['csr'], namespaced: false,
  subresources: [
    { name: 'status', verbs: ['get', 'patch', 'update'] },
    {
      name: 'approval', verbs: ['get', 'patch', 'update'],
      // Only the conditions change; spec, metadata and the certificate stay as stored.
      update(obj, old) {
        const conds: Condition[] = (obj as Obj).status?.conditions ?? [];
        const oldConds: Condition[] = (old as Obj).status?.conditions ?? [];
        const causes = validateConditions(conds, oldConds);
        const next = structuredClone(old) as Obj;
        next.metadata = { ...next.metadata, labels: obj.metadata.labels, annotations: obj.metadata.annotations };
        if (!next.metadata.labels) delete next.metadata.labels;
        if (!next.metadata.annotations) delete next.metadata.annotations;
        next.status = { ...next.status, conditions: stamp(conds, oldConds, nowRfc3339()) };
        return { obj: next as KubeObject, causes };
      },
    },
  ],
  validate(o, old) {
    const out = validateMeta(o);
    const s: Obj = (o as Obj).spec ?? {};
    if (!s.request) out.push(required('spec.request'));
    else {
      const pem = Buffer.from(String(s.request), 'base64').toString('utf8');
      if (!/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(pem)) out.push(invalid('spec.request', '<omitted>', 'PEM block type must be CERTIFICATE REQUEST'));
    }
    if (!s.signerName) out.push(required('spec.signerName'));
    else if (!/^[a-z0-9.-]+\/[A-Za-z0-9._-]+$/.test(s.signerName)) out.push(invalid('spec.signerName', s.signerName, 'must be a fully qualified domain and path of the form \'example.com/signer-name\''));
    if (!Array.isArray(s.usages) || !s.usages.length) out.push(required('spec.usages'));
    else s.usages.forEach((u: string, i: number) => { if (!USAGES.includes(u)) out.push(notSupported(`spec.usages[${i}]`, u, USAGES)); });
    if (s.expirationSeconds != null && (!Number.isInteger(s.expirationSeconds) || s.expirationSeconds < 600)) {
      out.push(invalid('spec.expirationSeconds', s.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
    }
    if (!old) out.push(...validateConditions((o as Obj).status?.conditions ?? [], undefined));
    return out;
  },
  prepareForCreate(o, ctx) {
    const obj = o as Obj;
    obj.status = {};
    const u = ctx.user;
    for (const k of ['username', 'uid', 'groups', 'extra']) delete obj.spec[k];
    if (u) {
      obj.spec.username = u.username;
      if (u.uid) obj.spec.uid = u.uid;
      if (u.groups?.length) obj.spec.groups = [...u.groups];
      if (u.extra && Object.keys(u.extra).length) obj.spec.extra = structuredClone(u.extra);
    }
  },
  prepareForUpdate(o, old) {
    // spec is immutable: a main-resource update changes metadata only (status comes through /status and /approval).
    (o as Obj).spec = structuredClone((old as Obj).spec);
  },
  columns: [nameColumn, ageColumn, column('SignerName', 'string', 0, 'Name of the signer requested.'),
    column('Requestor', 'string', 0, 'Information about the requesting user.'),
    column('RequestedDuration', 'string', 0, 'The requested duration of the issued certificate.'),
    column('Condition', 'string', 0, 'The current state of the certificate signing request.')],
  cells: (o, now) => {
    const s: Obj = (o as Obj).spec ?? {};
    return [o.metadata.name, age(o, now), s.signerName ?? '<none>', s.username ?? '',
      s.expirationSeconds != null ? shortDuration(s.expirationSeconds) : '<none>', csrCondition(o)];
  },
  fieldLabels: (o) => ({ 'spec.signerName': (o as Obj).spec?.signerName ?? '' }),
};

export const certificatesStrategies: ResourceStrategy[] = [certificatesigningrequests];
