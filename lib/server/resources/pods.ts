// core/v1 Pod: admission-like defaults, validation, update rules, graceful deletion, Table columns, binding and
// eviction subresources.
import { ApiError, isConflict, type KubeObject } from '../../client/types.ts';
import { conflict, invalid as invalidError, tooManyRequests } from '../registry/errors.ts';
import { fromLabelSelectorObject, matchLabels } from '../registry/selectors.ts';
import { age, ageColumn, column, humanDuration, nameColumn } from './table.ts';
import type { ResourceStrategy, StatusCause, SubresourceRequest } from './types.ts';
import { dns1123Label, duplicate, forbidden, invalid, notSupported, required, validateMeta } from './validation.ts';
import { deepEqual } from '../registry/field-set.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function imagePullPolicy(image: string | undefined): string {
  if (!image) return 'IfNotPresent';
  const noDigest = image.split('@')[0]!;
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = noDigest.lastIndexOf('/');
  const tagAt = noDigest.indexOf(':', lastSlash + 1);
  const tag = tagAt < 0 ? '' : noDigest.slice(tagAt + 1);
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Obj): void {
  c.imagePullPolicy ??= imagePullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  for (const e of c.env ?? []) if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= 'v1';
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    if (!probe) continue;
    probe.timeoutSeconds ??= 1; probe.periodSeconds ??= 10; probe.successThreshold ??= 1; probe.failureThreshold ??= 3;
    if (probe.httpGet) probe.httpGet.scheme ??= 'HTTP';
  }
}

/**
 * Embedded ObjectMeta (pod, job and claim templates) as Go decodes it: kubectl sends `creationTimestamp: null`
 * (a zero metav1.Time), which upstream never stores. Kept, it would make `kubectl rollout undo` templates differ from
 * the ReplicaSet they came from, and the deployment would roll out a new ReplicaSet instead of reusing the old one.
 */
export function dropNullTimestamp(tpl: Obj | undefined): void {
  if (tpl?.metadata && tpl.metadata.creationTimestamp === null) delete tpl.metadata.creationTimestamp;
}

/** Pod spec defaults, shared with workload templates (deployments etc. call it on spec.template.spec). */
export function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.priority ??= 0;
  if (spec.serviceAccountName && !spec.serviceAccount) spec.serviceAccount = spec.serviceAccountName;
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    if (v.configMap) v.configMap.defaultMode ??= 420;
    if (v.secret) v.secret.defaultMode ??= 420;
    if (v.projected) v.projected.defaultMode ??= 420;
  }
}

/** Fields an ephemeral container may not have (upstream's validateEphemeralContainers). */
const EPHEMERAL_FORBIDDEN = ['ports', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resources', 'resizePolicy'];

/**
 * pods/ephemeralcontainers (kubectl debug): only spec.ephemeralContainers is taken from the request. Ephemeral
 * containers are added, never changed or removed; they have no ports, probes, lifecycle or resources, and
 * targetContainerName names one of the pod's containers.
 */
function updateEphemeralContainers(obj: KubeObject, old: KubeObject): { obj: KubeObject; causes: StatusCause[] } {
  const path = 'spec.ephemeralContainers';
  const next: Obj[] = Array.isArray(obj.spec?.ephemeralContainers) ? obj.spec.ephemeralContainers : [];
  const before: Obj[] = old.spec?.ephemeralContainers ?? [];
  const out: StatusCause[] = [];
  for (const e of before) {
    const now = next.find((x) => x?.name === e.name);
    if (!now) out.push(forbidden(path, `existing ephemeral containers ${JSON.stringify(e.name)} may not be removed`));
  }
  const names = new Set<string>([...(old.spec?.containers ?? []), ...(old.spec?.initContainers ?? [])].map((c: Obj) => c.name));
  const targets = new Set(names);
  next.forEach((c, i) => {
    const p = `${path}[${i}]`;
    const was = before.find((x) => x.name === c?.name);
    if (was) {
      defaultContainer(c);
      if (!deepEqual(c, was)) out.push(forbidden(p, `existing ephemeral containers ${JSON.stringify(c.name)} may not be changed`));
      names.add(c.name);
      return;
    }
    out.push(...dns1123Label(`${p}.name`, c?.name));
    if (c?.name && names.has(c.name)) out.push(duplicate(`${p}.name`, c.name));
    names.add(c?.name);
    if (!c?.image || typeof c.image !== 'string' || !c.image.trim()) out.push(required(`${p}.image`));
    for (const f of EPHEMERAL_FORBIDDEN) if (c?.[f] !== undefined && !(f === 'resources' && !Object.keys(c[f] ?? {}).length)) out.push(forbidden(`${p}.${f}`, 'cannot be set for an Ephemeral Container'));
    if (c?.targetContainerName && !targets.has(c.targetContainerName)) {
      out.push({ field: `${p}.targetContainerName`, reason: 'FieldValueNotFound', message: `Not found: ${JSON.stringify(c.targetContainerName)}` });
    }
    if (c) { defaultContainer(c); out.push(...validateContainerExtras(c, p, undefined)); }
  });
  const result = structuredClone(old);
  result.spec.ephemeralContainers = next;
  return { obj: result, causes: out };
}

const NOT_READY = 'node.kubernetes.io/not-ready';
const UNREACHABLE = 'node.kubernetes.io/unreachable';

/** DefaultTolerationSeconds admission: tolerate not-ready/unreachable for 300 s. */
function defaultTolerations(spec: Obj): void {
  const t: Obj[] = spec.tolerations ?? [];
  const has = (key: string) => t.some((x) => (x.key === key || (!x.key && x.operator === 'Exists')) && (!x.effect || x.effect === 'NoExecute'));
  for (const key of [NOT_READY, UNREACHABLE]) {
    if (!has(key)) t.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  spec.tolerations = t;
}

/**
 * Pod spec validation shared with workload templates. Mount-to-volume references are checked only with
 * checkMounts (pods): templates may mount volumes added later (StatefulSet volumeClaimTemplates).
 */
export function validatePodSpec(spec: Obj | undefined, path: string, opts: { checkMounts?: boolean } = {}): StatusCause[] {
  const out: StatusCause[] = [];
  if (!spec) return [required(path)];
  const cs: Obj[] = spec.containers ?? [];
  if (!Array.isArray(cs) || cs.length === 0) out.push(required(`${path}.containers`));
  const names = new Set<string>();
  const volumes = new Set<string>();
  if (spec.volumes !== undefined && !Array.isArray(spec.volumes)) out.push(invalid(`${path}.volumes`, spec.volumes, 'must be a list'));
  (Array.isArray(spec.volumes) ? spec.volumes : []).forEach((v: Obj, i: number) => {
    out.push(...dns1123Label(`${path}.volumes[${i}].name`, v?.name));
    if (v?.name && volumes.has(v.name)) out.push(duplicate(`${path}.volumes[${i}].name`, v.name));
    volumes.add(v?.name);
  });
  const check = (list: Obj[], field: string) => list.forEach((c, i) => {
    const p = `${path}.${field}[${i}]`;
    out.push(...dns1123Label(`${p}.name`, c?.name));
    if (c?.name && names.has(c.name)) out.push(duplicate(`${p}.name`, c.name));
    names.add(c?.name);
    if (!c?.image || typeof c.image !== 'string' || !c.image.trim()) out.push(required(`${p}.image`));
    out.push(...validateContainerExtras(c ?? {}, p, opts.checkMounts ? volumes : undefined));
  });
  if (Array.isArray(cs)) check(cs, 'containers');
  if (Array.isArray(spec.initContainers)) check(spec.initContainers, 'initContainers');
  if (spec.dnsPolicy && !['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'].includes(spec.dnsPolicy)) out.push(notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']));
  (Array.isArray(spec.tolerations) ? spec.tolerations : []).forEach((t: Obj, i: number) => {
    if (t?.operator && !['Exists', 'Equal'].includes(t.operator)) out.push(notSupported(`${path}.tolerations[${i}].operator`, t.operator, ['Equal', 'Exists']));
    if (t?.operator === 'Exists' && t.value) out.push(invalid(`${path}.tolerations[${i}].operator`, t.value, 'value must be empty when `operator` is \'Exists\''));
  });
  const rp = spec.restartPolicy;
  if (rp && !['Always', 'OnFailure', 'Never'].includes(rp)) out.push({ field: `${path}.restartPolicy`, reason: 'FieldValueNotSupported', message: `Unsupported value: "${rp}": supported values: "Always", "OnFailure", "Never"` });
  return out;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function validateContainerExtras(c: Obj, p: string, volumes: Set<string> | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  const portNames = new Set<string>();
  (Array.isArray(c.ports) ? c.ports : []).forEach((port: Obj, i: number) => {
    const f = `${p}.ports[${i}]`;
    if (!Number.isInteger(port?.containerPort) || port.containerPort < 1 || port.containerPort > 65535) out.push(invalid(`${f}.containerPort`, port?.containerPort, 'must be between 1 and 65535, inclusive'));
    if (port?.protocol && !['TCP', 'UDP', 'SCTP'].includes(port.protocol)) out.push(notSupported(`${f}.protocol`, port.protocol, ['SCTP', 'TCP', 'UDP']));
    if (port?.name) {
      if (typeof port.name !== 'string' || port.name.length > 15 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(port.name) || !/[a-z]/.test(port.name)) out.push(invalid(`${f}.name`, port.name, 'must be no more than 15 characters, contain only lowercase alphanumerics and \'-\', and contain at least one letter'));
      else if (portNames.has(port.name)) out.push(duplicate(`${f}.name`, port.name));
      portNames.add(port.name);
    }
  });
  (Array.isArray(c.env) ? c.env : []).forEach((e: Obj, i: number) => {
    if (typeof e?.name !== 'string' || !ENV_NAME.test(e.name)) out.push(invalid(`${p}.env[${i}].name`, e?.name, "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"));
  });
  (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).forEach((m: Obj, i: number) => {
    const f = `${p}.volumeMounts[${i}]`;
    if (!m?.name) out.push(required(`${f}.name`));
    else if (volumes && !volumes.has(m.name)) out.push({ field: `${f}.name`, reason: 'FieldValueNotFound', message: `Not found: ${JSON.stringify(m.name)}` });
    if (!m?.mountPath) out.push(required(`${f}.mountPath`));
  });
  return out;
}

function mutableSpecView(spec: Obj): string {
  const s = structuredClone(spec ?? {});
  for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) delete c.image;
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  delete s.schedulingGates;
  return JSON.stringify(s);
}

function podStatus(pod: Obj): string {
  if (pod.metadata?.deletionTimestamp && pod.status?.reason !== 'NodeLost') return 'Terminating';
  let reason: string = pod.status?.reason || pod.status?.phase || 'Pending';
  const inits: Obj[] = pod.status?.initContainerStatuses ?? [];
  const initTotal = pod.spec?.initContainers?.length ?? 0;
  for (let i = 0; i < inits.length; i++) {
    const s = inits[i]!.state ?? {};
    if (s.terminated?.exitCode === 0) continue;
    if (s.terminated) return s.terminated.reason ? `Init:${s.terminated.reason}` : `Init:ExitCode:${s.terminated.exitCode}`;
    if (s.waiting?.reason && s.waiting.reason !== 'PodInitializing') return `Init:${s.waiting.reason}`;
    return `Init:${i}/${initTotal}`;
  }
  let running = false;
  for (const c of [...(pod.status?.containerStatuses ?? [])].reverse()) {
    const s = c.state ?? {};
    if (s.waiting?.reason) reason = s.waiting.reason;
    else if (s.terminated?.reason) reason = s.terminated.reason;
    else if (s.terminated) reason = s.terminated.signal ? `Signal:${s.terminated.signal}` : `ExitCode:${s.terminated.exitCode}`;
    else if (s.running && c.ready) running = true;
  }
  if (running && reason === 'Completed') reason = 'Running';
  return reason;
}

function restarts(pod: Obj, now: number): string {
  let n = 0, last = 0;
  for (const c of pod.status?.containerStatuses ?? []) {
    n += c.restartCount ?? 0;
    const f = Date.parse(c.lastState?.terminated?.finishedAt ?? '');
    if (f > last) last = f;
  }
  return n > 0 && last > 0 ? `${n} (${humanDuration(now - last)} ago)` : String(n);
}

async function bind(req: SubresourceRequest): Promise<KubeObject> {
  const target = req.body.target as Obj | undefined;
  if (!target?.name) throw invalidError({ group: '', plural: 'bindings', kind: 'Binding' }, req.name, [required('target.name')]);
  await req.update((pod) => {
    if (pod.spec?.nodeName) throw conflict({ group: '', plural: 'pods' }, req.name, `pod ${req.name} is already assigned to node "${pod.spec.nodeName}"`);
    if (pod.metadata.deletionTimestamp) throw conflict({ group: '', plural: 'pods' }, req.name, 'pod is being deleted, cannot be assigned to a host');
    pod.spec.nodeName = target.name;
    const conds: Obj[] = (pod.status ??= {}).conditions ??= [];
    const t = new Date(req.ctx.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    const c = conds.find((x) => x.type === 'PodScheduled');
    if (c) Object.assign(c, { status: 'True', lastTransitionTime: t, reason: undefined, message: undefined });
    else conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: t });
  });
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Success', code: 201 };
}

async function evict(req: SubresourceRequest): Promise<KubeObject> {
  const pod = await req.get();
  const pdbRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };
  const terminal = ['Succeeded', 'Failed'].includes(pod.status?.phase);
  // As upstream: a budget updated by a concurrent eviction (409) is read again and checked again, a bounded number
  // of times, so that draining several pods of one budget at once does not fail on a conflict.
  for (let attempt = 0; !terminal; attempt++) {
    let pdbs: Obj[] = [];
    try {
      pdbs = (await req.ctx.client.list(pdbRef, { namespace: req.namespace })).items;
    } catch { /* policy/v1 not served: no budgets */ }
    const matching = pdbs.filter((p) => {
      const sel = p.spec?.selector;
      if (!sel || (!sel.matchLabels && !sel.matchExpressions)) return false;
      return matchLabels(fromLabelSelectorObject(sel), pod.metadata.labels);
    });
    if (matching.length > 1) throw new ApiError({ code: 500, reason: 'InternalError', status: 'Failure', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' });
    const pdb = matching[0];
    if (!pdb) break;
    const allowed = pdb.status?.disruptionsAllowed ?? 0;
    if (allowed < 1 || (pdb.status?.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) {
      throw tooManyRequests('Cannot evict pod as it would violate the pod\'s disruption budget.', [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${pdb.status?.desiredHealthy ?? 0} healthy pods and has ${pdb.status?.currentHealthy ?? 0} currently` }]);
    }
    pdb.status.disruptionsAllowed = allowed - 1;
    pdb.status.disruptedPods = { ...pdb.status.disruptedPods, [req.name]: new Date(req.ctx.now()).toISOString().replace(/\.\d+Z$/, 'Z') };
    try {
      await req.ctx.client.update(pdbRef, pdb as KubeObject, 'status');
      break;
    } catch (err) {
      if (!isConflict(err) || attempt >= 19) throw err;
    }
  }
  await req.delete(req.body.deleteOptions ?? {});
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Success', code: 201 };
}

export const pods: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'Pod', plural: 'pods', singular: 'pod', shortNames: ['po'], categories: ['all'],
  namespaced: true,
  subresources: [
    { name: 'status', verbs: ['get', 'patch', 'update'] },
    { name: 'binding', kind: 'Binding', verbs: ['create'], create: bind },
    { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'], create: evict },
    { name: 'ephemeralcontainers', verbs: ['get', 'patch', 'update'], update: updateEphemeralContainers },
    { name: 'log', verbs: ['get'] },
    { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    { name: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  ],
  defaults(obj) {
    obj.spec ??= {};
    defaultPodSpec(obj.spec);
  },
  validate(obj, old) {
    const out = [...validateMeta(obj), ...validatePodSpec(obj.spec, 'spec', { checkMounts: true })];
    if (!old && obj.spec?.ephemeralContainers?.length) out.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
    if (old && mutableSpecView(obj.spec) !== mutableSpecView(old.spec)) {
      out.push(forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'));
    }
    return out;
  },
  prepareForCreate(obj) {
    // what the ServiceAccount and DefaultTolerationSeconds admission plugins add to every pod
    obj.spec.serviceAccountName ??= obj.spec.serviceAccount ?? 'default';
    obj.spec.serviceAccount = obj.spec.serviceAccountName;
    defaultTolerations(obj.spec);
    obj.status = { phase: 'Pending', qosClass: qosClass(obj.spec) };
  },
  deleteGracePeriod(obj, opts) {
    if (!obj.spec?.nodeName) return 0;
    if (['Succeeded', 'Failed'].includes(obj.status?.phase)) return 0;
    const g = opts.gracePeriodSeconds ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, g);
  },
  columns: [
    nameColumn,
    column('Ready', 'string', 0, 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 0, 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'string', 0, 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn,
    column('IP', 'string', 1, 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.'),
    column('Node', 'string', 1, 'Name of the Node which the Pod is running on.'),
    column('Nominated Node', 'string', 1, 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.'),
    column('Readiness Gates', 'string', 1, 'If specified, all readiness gates will be evaluated for pod readiness.'),
  ],
  cells(obj, now) {
    const cs: Obj[] = obj.status?.containerStatuses ?? [];
    const total = obj.spec?.containers?.length ?? 0;
    const ready = cs.filter((c) => c.ready).length;
    const gates: Obj[] = obj.spec?.readinessGates ?? [];
    const gateText = gates.length ? `${gates.filter((g) => (obj.status?.conditions ?? []).some((c: Obj) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}` : '<none>';
    return [obj.metadata.name, `${ready}/${total}`, podStatus(obj), restarts(obj, now), age(obj, now),
      obj.status?.podIP || '<none>', obj.spec?.nodeName || '<none>', obj.status?.nominatedNodeName || '<none>', gateText];
  },
  fieldLabels: (obj) => ({
    'spec.nodeName': obj.spec?.nodeName ?? '',
    'spec.restartPolicy': obj.spec?.restartPolicy ?? '',
    'spec.schedulerName': obj.spec?.schedulerName ?? '',
    'spec.serviceAccountName': obj.spec?.serviceAccountName ?? '',
    'spec.hostNetwork': String(obj.spec?.hostNetwork ?? false),
    'status.phase': obj.status?.phase ?? '',
    'status.podIP': obj.status?.podIP ?? '',
    'status.nominatedNodeName': obj.status?.nominatedNodeName ?? '',
  }),
};

function qosClass(spec: Obj): string {
  const cs: Obj[] = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false, guaranteed = true;
  for (const c of cs) {
    const req = c.resources?.requests ?? {}, lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      if (!lim[r] || (req[r] && req[r] !== lim[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
