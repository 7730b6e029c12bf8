// events.k8s.io/v1 Event: the same objects as core/v1 events (stored once, under /registry/events/), converted on
// the way in and out as Kubernetes converts them: involvedObject↔regarding, message↔note, source↔deprecatedSource,
// count↔deprecatedCount, first/lastTimestamp↔deprecatedFirst/LastTimestamp, reportingComponent↔reportingController.
import type { KubeObject } from '../../client/types.ts';
import { events } from './events.ts';
import type { ResourceStrategy } from './types.ts';

const CORE_TO_V1: [string, string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['source', 'deprecatedSource'],
  ['count', 'deprecatedCount'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['reportingComponent', 'reportingController'],
];

function rename(o: KubeObject, pairs: [string, string][], apiVersion: string): KubeObject {
  const out: KubeObject = { ...o, apiVersion, kind: 'Event' };
  for (const [from, to] of pairs) {
    delete out[to];
    if (o[from] !== undefined) out[to] = o[from];
    delete out[from];
  }
  return out;
}

/** A core/v1 Event as events.k8s.io/v1. */
export function eventToV1(o: KubeObject): KubeObject {
  const out = rename(o, CORE_TO_V1, 'events.k8s.io/v1');
  // an empty source is not carried over (upstream drops the zero value)
  const src = out.deprecatedSource as Record<string, unknown> | undefined;
  if (src && !src.component && !src.host) delete out.deprecatedSource;
  return out;
}

/** An events.k8s.io/v1 Event as core/v1. */
export function eventToCore(o: KubeObject): KubeObject {
  return rename(o, CORE_TO_V1.map(([a, b]) => [b, a]), 'v1');
}

const asCore = (o: KubeObject) => (o.apiVersion === 'events.k8s.io/v1' ? eventToCore(o) : o);

export const eventsV1: ResourceStrategy = {
  ...events,
  group: 'events.k8s.io', versions: ['v1'], shortNames: ['ev'],
  storedAs: { group: '', apiVersion: 'v1' },
  convert: (o) => (o.apiVersion === 'events.k8s.io/v1' ? eventToCore(o) : eventToV1(o)),
  cells: (o, now) => events.cells!(asCore(o), now),
  fieldLabels(o) {
    const core = asCore(o);
    const io = core.involvedObject ?? {};
    return {
      ...events.fieldLabels!(core),
      'regarding.kind': io.kind ?? '', 'regarding.namespace': io.namespace ?? '', 'regarding.name': io.name ?? '',
      'regarding.uid': io.uid ?? '', 'regarding.apiVersion': io.apiVersion ?? '', 'regarding.resourceVersion': io.resourceVersion ?? '',
      'regarding.fieldPath': io.fieldPath ?? '', reportingController: core.reportingComponent ?? '',
    };
  },
};
