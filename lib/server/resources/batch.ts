// batch/v1: Job (defaults, generated selector with controller-uid labels, immutability) and CronJob.
import { randomUUID } from 'node:crypto';
import { isValidTimeZone, parseSchedule } from '../../controllers/cronjob-schedule.ts';
import { fromLabelSelectorObject, matchLabels } from '../registry/selectors.ts';
import { containerImages, containerNames, selectorText, statusSub } from './apps.ts';
import { defaultPodSpec, dropNullTimestamp, validatePodSpec } from './pods.ts';
import { age, ageColumn, column, humanDuration, nameColumn } from './table.ts';
import type { ResourceStrategy, StatusCause } from './types.ts';
import { immutable, invalid, notSupported, required, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MAX_INT32 = 2147483647;

/** SetDefaults_Job on a JobSpec (shared with CronJob's jobTemplate). */
export function defaultJobSpec(s: Obj): void {
  if (s.completions == null && s.parallelism == null) { s.completions = 1; s.parallelism = 1; }
  s.parallelism ??= 1;
  s.backoffLimit ??= s.backoffLimitPerIndex != null ? MAX_INT32 : 6;
  s.completionMode ??= 'NonIndexed';
  s.suspend ??= false;
  s.podReplacementPolicy ??= s.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  s.manualSelector ??= undefined;
  if (s.manualSelector === undefined) delete s.manualSelector;
  s.template ??= {};
  dropNullTimestamp(s.template);
  s.template.spec ??= {};
  defaultPodSpec(s.template.spec);
}

function nonNegative(out: StatusCause[], field: string, v: unknown): void {
  if (v != null && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) out.push(invalid(field, v, 'must be greater than or equal to 0'));
}

export function validateJobSpec(s: Obj | undefined, path: string, generatedSelector: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  if (!s) return [required(path)];
  for (const f of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) nonNegative(out, `${path}.${f}`, s[f]);
  if (s.completionMode && !['NonIndexed', 'Indexed'].includes(s.completionMode)) out.push(notSupported(`${path}.completionMode`, s.completionMode, ['NonIndexed', 'Indexed']));
  if (s.completionMode === 'Indexed' && s.completions == null) out.push(required(`${path}.completions`, 'when completion mode is Indexed'));
  out.push(...validatePodSpec(s.template?.spec, `${path}.template.spec`));
  const rp = s.template?.spec?.restartPolicy;
  if (!['OnFailure', 'Never'].includes(rp)) out.push(notSupported(`${path}.template.spec.restartPolicy`, rp, ['OnFailure', 'Never']));
  if (!generatedSelector) {
    const sel = s.selector;
    if (!sel) out.push(required(`${path}.selector`));
    else if (!matchLabels(fromLabelSelectorObject(sel), s.template?.metadata?.labels ?? {})) {
      out.push(invalid(`${path}.template.metadata.labels`, s.template?.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
    }
  }
  return out;
}

function jobStatusText(o: Obj): string {
  const conds: Obj[] = o.status?.conditions ?? [];
  const has = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (o.metadata?.deletionTimestamp) return 'Terminating';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('Suspended')) return 'Suspended';
  return 'Running';
}

function completions(o: Obj): string {
  const succeeded = o.status?.succeeded ?? 0;
  if (o.spec?.completions != null) return `${succeeded}/${o.spec.completions}`;
  const p = o.spec?.parallelism ?? 0;
  return p > 1 ? `${succeeded}/1 of ${p}` : `${succeeded}/1`;
}

function duration(o: Obj, now: number): string {
  const start = o.status?.startTime;
  if (!start) return '';
  const end = o.status?.completionTime ? Date.parse(o.status.completionTime) : now;
  return humanDuration(end - Date.parse(start));
}

export const jobs: ResourceStrategy = {
  group: 'batch', versions: ['v1'], kind: 'Job', plural: 'jobs', singular: 'job', categories: ['all'],
  namespaced: true, subresources: [statusSub],
  defaults(o) {
    o.spec ??= {};
    defaultJobSpec(o.spec);
    if (!o.metadata.labels && o.spec.template?.metadata?.labels) o.metadata.labels = { ...o.spec.template.metadata.labels };
  },
  validate(o, old) {
    const generated = !old && o.spec?.manualSelector !== true;
    const out = [...validateMeta(o), ...validateJobSpec(o.spec, 'spec', generated)];
    if (typeof o.metadata.name === 'string' && o.metadata.name.length > 63) out.push(invalid('metadata.name', o.metadata.name, 'must be no more than 63 characters'));
    if (old) {
      out.push(...immutable('spec.selector', o.spec?.selector, old.spec?.selector));
      out.push(...immutable('spec.completionMode', o.spec?.completionMode, old.spec?.completionMode));
      if (!old.spec?.suspend || JSON.stringify(o.spec?.template?.spec?.containers?.map((c: Obj) => c.name)) !== JSON.stringify(old.spec?.template?.spec?.containers?.map((c: Obj) => c.name))) {
        out.push(...immutable('spec.template', o.spec?.template, old.spec?.template));
      }
    }
    return out;
  },
  prepareForCreate(o) {
    o.status = {};
    if (o.spec.manualSelector === true) return;
    const uid = (o.metadata.uid ??= randomUUID());
    const gen = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': o.metadata.name ?? '', 'controller-uid': uid, 'job-name': o.metadata.name ?? '' };
    o.spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
    o.spec.template.metadata ??= {};
    o.spec.template.metadata.labels = { ...o.spec.template.metadata.labels, ...gen };
  },
  columns: [nameColumn, column('Status', 'string', 0, 'Status of the job.'), column('Completions', 'string', 0, 'The desired number of successfully finished pods the job should be run with.'),
    column('Duration', 'string', 0, 'Time required to complete the job.'), ageColumn,
    column('Containers', 'string', 1, 'Names of each container in the template.'), column('Images', 'string', 1, 'Images referenced by each container in the template.'),
    column('Selector', 'string', 1, 'A label query over pods that should match the pod count.')],
  cells: (o, now) => [o.metadata.name, jobStatusText(o), completions(o), duration(o, now), age(o, now), containerNames(o), containerImages(o), selectorText(o.spec?.selector)],
  fieldLabels: (o) => ({ 'status.successful': String(o.status?.succeeded ?? 0) }),
};

export const cronjobs: ResourceStrategy = {
  group: 'batch', versions: ['v1'], kind: 'CronJob', plural: 'cronjobs', singular: 'cronjob', shortNames: ['cj'], categories: ['all'],
  namespaced: true, subresources: [statusSub],
  defaults(o) {
    const s = (o.spec ??= {});
    s.concurrencyPolicy ??= 'Allow';
    s.suspend ??= false;
    s.successfulJobsHistoryLimit ??= 3;
    s.failedJobsHistoryLimit ??= 1;
    s.jobTemplate ??= {};
    s.jobTemplate.spec ??= {};
    const js = s.jobTemplate.spec;
    // Upstream defaults only the pod template here; Job defaults apply when the job is created.
    dropNullTimestamp(s.jobTemplate);
    js.template ??= {};
    dropNullTimestamp(js.template);
    js.template.spec ??= {};
    defaultPodSpec(js.template.spec);
  },
  validate(o) {
    const out = validateMeta(o);
    if (typeof o.metadata.name === 'string' && o.metadata.name.length > 52) out.push(invalid('metadata.name', o.metadata.name, 'must be no more than 52 characters'));
    const s = o.spec ?? {};
    if (!s.schedule) out.push(required('spec.schedule'));
    else {
      try { parseSchedule(s.schedule); } catch (e) { out.push(invalid('spec.schedule', s.schedule, (e as Error).message)); }
      if (/TZ=|CRON_TZ=/.test(s.schedule)) out.push(invalid('spec.schedule', s.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    }
    if (s.timeZone && !isValidTimeZone(s.timeZone)) out.push(invalid('spec.timeZone', s.timeZone, 'unknown time zone ' + s.timeZone));
    if (s.concurrencyPolicy && !['Allow', 'Forbid', 'Replace'].includes(s.concurrencyPolicy)) out.push(notSupported('spec.concurrencyPolicy', s.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
    const jt = s.jobTemplate?.spec;
    out.push(...validatePodSpec(jt?.template?.spec, 'spec.jobTemplate.spec.template.spec'));
    const rp = jt?.template?.spec?.restartPolicy;
    if (!['OnFailure', 'Never'].includes(rp)) out.push(notSupported('spec.jobTemplate.spec.template.spec.restartPolicy', rp, ['OnFailure', 'Never']));
    return out;
  },
  prepareForCreate(o) { o.status = {}; },
  columns: [nameColumn, column('Schedule', 'string', 0, 'The schedule in Cron format.'), column('Timezone', 'string', 0, 'The time zone name for the given schedule.'),
    column('Suspend', 'boolean', 0, 'This flag tells the controller to suspend subsequent executions.'), column('Active', 'integer', 0, 'A list of pointers to currently running jobs.'),
    column('Last Schedule', 'string', 0, 'Information when was the last time the job was successfully scheduled.'), ageColumn,
    column('Containers', 'string', 1, 'Names of each container in the template.'), column('Images', 'string', 1, 'Images referenced by each container in the template.'),
    column('Selector', 'string', 1, 'A label query over pods that should match the pod count.')],
  cells: (o, now) => {
    const tpl = { spec: o.spec?.jobTemplate?.spec ?? {} };
    return [o.metadata.name, o.spec?.schedule ?? '', o.spec?.timeZone ?? '<none>', Boolean(o.spec?.suspend), (o.status?.active ?? []).length,
      o.status?.lastScheduleTime ? humanDuration(now - Date.parse(o.status.lastScheduleTime)) : '<none>', age(o, now),
      containerNames(tpl), containerImages(tpl), selectorText(o.spec?.jobTemplate?.spec?.selector)];
  },
};

export const batchStrategies: ResourceStrategy[] = [jobs, cronjobs];
