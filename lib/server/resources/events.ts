// core/v1 Event: field selectors on involvedObject, one hour TTL through a store lease, kubectl's columns.
import type { KubeObject } from '../../client/types.ts';
import { column, humanDuration } from './table.ts';
import type { ResourceStrategy } from './types.ts';
import { required, validateMeta } from './validation.ts';

export const EVENT_TTL_SECONDS = 3600;

const ts = (e: KubeObject, now: number, ...fields: (string | undefined)[]) => {
  for (const f of fields) if (f) return humanDuration(now - Date.parse(f));
  return '<unknown>';
};

export const events: ResourceStrategy = {
  group: '', versions: ['v1'], generation: false, kind: 'Event', plural: 'events', singular: 'event', shortNames: ['ev'],
  namespaced: true,
  validate(obj) {
    const out = validateMeta(obj);
    if (!obj.involvedObject) out.push(required('involvedObject'));
    return out;
  },
  ttlSeconds: () => EVENT_TTL_SECONDS,
  columns: [
    column('Last Seen', 'string', 0, 'Time when last this event was observed.'),
    column('Type', 'string', 0, 'Type of this event (Normal, Warning), new types could be added in the future.'),
    column('Reason', 'string', 0, 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
    column('Object', 'string', 0, 'The object that this event is about.'),
    column('Subobject', 'string', 1, 'The subobject that this event is about.'),
    column('Source', 'string', 1, 'The component reporting this event.'),
    column('Message', 'string', 0, 'A human-readable description of the status of this operation.'),
    column('First Seen', 'string', 1, 'The time at which the event was first recorded.'),
    column('Count', 'string', 1, 'The number of times this event has occurred.'),
    column('Name', 'string', 1, 'Name must be unique within a namespace.', 'name'),
  ],
  cells(e, now) {
    const io = e.involvedObject ?? {};
    const src = e.source?.component ? `${e.source.component}${e.source.host ? ', ' + e.source.host : ''}` : (e.reportingComponent ?? '');
    const last = ts(e, now, e.series?.lastObservedTime, e.lastTimestamp, e.eventTime, e.metadata.creationTimestamp);
    const first = ts(e, now, e.firstTimestamp, e.eventTime, e.metadata.creationTimestamp);
    return [last, e.type ?? '', e.reason ?? '', `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`, io.fieldPath ?? '', src,
      String(e.message ?? '').trim(), first, String(e.series?.count ?? e.count ?? 1), e.metadata.name];
  },
  fieldLabels(e) {
    const io = e.involvedObject ?? {};
    return {
      'involvedObject.kind': io.kind ?? '', 'involvedObject.namespace': io.namespace ?? '', 'involvedObject.name': io.name ?? '',
      'involvedObject.uid': io.uid ?? '', 'involvedObject.apiVersion': io.apiVersion ?? '', 'involvedObject.resourceVersion': io.resourceVersion ?? '',
      'involvedObject.fieldPath': io.fieldPath ?? '', reason: e.reason ?? '', reportingComponent: e.reportingComponent ?? '',
      source: e.source?.component ?? '', type: e.type ?? '',
    };
  },
};
