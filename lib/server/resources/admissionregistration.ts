// admissionregistration.k8s.io/v1 webhook configurations: stored and served (charts create them); tsk does not
// call admission webhooks.
import type { KubeObject } from '../../client/types.ts';
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy, StatusCause } from './types.ts';
import { notSupported, required, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function defaultWebhooks(o: Obj, mutating: boolean): void {
  for (const w of o.webhooks ?? []) {
    w.failurePolicy ??= 'Fail';
    w.matchPolicy ??= 'Equivalent';
    w.namespaceSelector ??= {};
    w.objectSelector ??= {};
    w.timeoutSeconds ??= 10;
    if (mutating) w.reinvocationPolicy ??= 'Never';
    for (const r of w.rules ?? []) r.scope ??= '*';
    if (w.clientConfig?.service) w.clientConfig.service.port ??= 443;
  }
}

function validateWebhooks(o: KubeObject): StatusCause[] {
  const out = validateMeta(o);
  const names = new Set<string>();
  (o.webhooks ?? []).forEach((w: Obj, i: number) => {
    const p = `webhooks[${i}]`;
    if (!w.name) out.push(required(`${p}.name`));
    else if (names.has(w.name)) out.push({ field: `${p}.name`, reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(w.name)}` });
    names.add(w.name);
    if (!(w.admissionReviewVersions ?? []).length) out.push(required(`${p}.admissionReviewVersions`, 'must specify one of v1, v1beta1'));
    if (!w.sideEffects) out.push(required(`${p}.sideEffects`));
    else if (!['None', 'NoneOnDryRun'].includes(w.sideEffects)) out.push(notSupported(`${p}.sideEffects`, w.sideEffects, ['None', 'NoneOnDryRun']));
    if (!w.clientConfig?.url && !w.clientConfig?.service) out.push(required(`${p}.clientConfig`, 'exactly one of url or service is required'));
  });
  return out;
}

const cells = (o: KubeObject, now: number) => [o.metadata.name, (o.webhooks ?? []).length, age(o, now)];
const columns = [nameColumn, column('Webhooks', 'integer', 0, 'Webhooks indicates the number of webhooks in the configuration'), ageColumn];

export const validatingwebhookconfigurations: ResourceStrategy = {
  group: 'admissionregistration.k8s.io', versions: ['v1'], kind: 'ValidatingWebhookConfiguration', plural: 'validatingwebhookconfigurations',
  singular: 'validatingwebhookconfiguration', categories: ['api-extensions'], namespaced: false,
  defaults: (o) => defaultWebhooks(o, false), validate: validateWebhooks, columns, cells,
};

export const mutatingwebhookconfigurations: ResourceStrategy = {
  group: 'admissionregistration.k8s.io', versions: ['v1'], kind: 'MutatingWebhookConfiguration', plural: 'mutatingwebhookconfigurations',
  singular: 'mutatingwebhookconfiguration', categories: ['api-extensions'], namespaced: false,
  defaults: (o) => defaultWebhooks(o, true), validate: validateWebhooks, columns, cells,
};

export const admissionregistrationStrategies: ResourceStrategy[] = [validatingwebhookconfigurations, mutatingwebhookconfigurations];
