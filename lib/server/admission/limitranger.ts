// LimitRanger admission: pods created in a namespace with LimitRanges get their containers' missing requests and
// limits from `defaultRequest`/`default`, then must satisfy min/max/maxLimitRequestRatio per Container and per Pod
// (and storage min/max per PersistentVolumeClaim). Messages follow Kubernetes' wording.
import type { KubeObject } from '../../client/types.ts';
import { formatLike, milli } from './quantity.ts';

type ResourceList = Record<string, string | number>;
interface LimitItem { type?: string; min?: ResourceList; max?: ResourceList; default?: ResourceList; defaultRequest?: ResourceList; maxLimitRequestRatio?: ResourceList }
interface Container { name: string; resources?: { requests?: ResourceList; limits?: ResourceList } }

/** The API's defaulting of a Container item (max → default → defaultRequest, min → defaultRequest). */
export function effectiveItem(item: LimitItem): LimitItem {
  if (item.type !== 'Container') return item;
  const def: ResourceList = { ...(item.max ?? {}), ...(item.default ?? {}) };
  const req: ResourceList = { ...(item.min ?? {}), ...def, ...(item.defaultRequest ?? {}) };
  return { ...item, default: def, defaultRequest: req };
}

const items = (ranges: KubeObject[], type: string): LimitItem[] =>
  ranges.flatMap((r) => ((r.spec?.limits ?? []) as LimitItem[]).filter((i) => i.type === type).map(effectiveItem));

const containersOf = (pod: KubeObject): Container[] => [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];

/** Mutates `pod`: fills missing requests/limits per container; annotates what it set, as Kubernetes does. */
export function applyLimitRangeDefaults(pod: KubeObject, ranges: KubeObject[]): void {
  const its = items(ranges, 'Container');
  if (!its.length) return;
  const setReq: string[] = [];
  const setLim: string[] = [];
  const inits = new Set<Container>(pod.spec?.initContainers ?? []);
  for (const c of containersOf(pod)) {
    const r = (c.resources ??= {});
    const req: string[] = [];
    const lim: string[] = [];
    for (const it of its) {
      for (const [k, v] of Object.entries(it.default ?? {})) {
        if (r.limits?.[k] === undefined) { (r.limits ??= {})[k] = v; lim.push(k); }
      }
      for (const [k, v] of Object.entries(it.defaultRequest ?? {})) {
        if (r.requests?.[k] === undefined) { (r.requests ??= {})[k] = v; req.push(k); }
      }
    }
    const who = `${inits.has(c) ? 'init container' : 'container'} ${c.name}`;
    if (req.length) setReq.push(`${req.join(', ')} request for ${who}`);
    if (lim.length) setLim.push(`${lim.join(', ')} limit for ${who}`);
  }
  const what = [...setReq, ...setLim];
  if (what.length) {
    pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), 'kubernetes.io/limit-ranger': `LimitRanger plugin set: ${what.join('; ')}` };
  }
}

/** Checks one (request, limit) pair of a resource against an item; returns Kubernetes-worded violations. */
function check(kind: string, it: LimitItem, res: string, request: string | number | undefined, limit: string | number | undefined): string[] {
  const out: string[] = [];
  const min = it.min?.[res];
  const max = it.max?.[res];
  const ratio = it.maxLimitRequestRatio?.[res];
  if (min !== undefined) {
    if (request === undefined) out.push(`minimum ${res} usage per ${kind} is ${formatLike(milli(min), min)}.  No request is specified`);
    else if (milli(request) < milli(min)) out.push(`minimum ${res} usage per ${kind} is ${formatLike(milli(min), min)}, but request is ${formatLike(milli(request), request)}`);
  }
  if (max !== undefined) {
    if (limit === undefined) out.push(`maximum ${res} usage per ${kind} is ${formatLike(milli(max), max)}.  No limit is specified`);
    else if (milli(limit) > milli(max)) out.push(`maximum ${res} usage per ${kind} is ${formatLike(milli(max), max)}, but limit is ${formatLike(milli(limit), limit)}`);
  }
  if (ratio !== undefined) {
    if (limit === undefined) out.push(`${res} max limit to request ratio per ${kind} is ${formatLike(milli(ratio), ratio)}, but no limit is specified`);
    else if (request === undefined || milli(request) === 0) out.push(`${res} max limit to request ratio per ${kind} is ${formatLike(milli(ratio), ratio)}, but no request is specified or request is 0`);
    else {
      const actual = milli(limit) / milli(request);
      if (actual > milli(ratio) / 1000) out.push(`${res} max limit to request ratio per ${kind} is ${formatLike(milli(ratio), ratio)}, but provided ratio is ${actual.toFixed(6)}`);
    }
  }
  return out;
}

const resourcesOf = (it: LimitItem) => new Set([...Object.keys(it.min ?? {}), ...Object.keys(it.max ?? {}), ...Object.keys(it.maxLimitRequestRatio ?? {})]);

/** Violations of the pod (after defaulting) against Container and Pod items. Empty when it is fine. */
export function limitRangeViolations(pod: KubeObject, ranges: KubeObject[]): string[] {
  const out: string[] = [];
  for (const it of items(ranges, 'Container')) {
    for (const c of containersOf(pod)) {
      for (const res of resourcesOf(it)) out.push(...check('Container', it, res, c.resources?.requests?.[res], c.resources?.limits?.[res]));
    }
  }
  const podItems = items(ranges, 'Pod');
  if (podItems.length) {
    // the pod's effective requests/limits: sum of containers, or the largest init container when bigger
    const total = (which: 'requests' | 'limits', res: string): string | undefined => {
      const cs = (pod.spec?.containers ?? []) as Container[];
      const inits = (pod.spec?.initContainers ?? []) as Container[];
      if ([...cs, ...inits].some((c) => c.resources?.[which]?.[res] === undefined)) return undefined;
      const sum = cs.reduce((n, c) => n + milli(c.resources![which]![res]), 0);
      const init = inits.reduce((n, c) => Math.max(n, milli(c.resources![which]![res])), 0);
      return formatLike(Math.max(sum, init), [...cs, ...inits][0]?.resources?.[which]?.[res]);
    };
    for (const it of podItems) {
      for (const res of resourcesOf(it)) out.push(...check('Pod', it, res, total('requests', res), total('limits', res)));
    }
  }
  return out;
}

/** Violations of a PersistentVolumeClaim's storage request against PersistentVolumeClaim items. */
export function pvcViolations(pvc: KubeObject, ranges: KubeObject[]): string[] {
  const out: string[] = [];
  const r = pvc.spec?.resources ?? {};
  for (const it of items(ranges, 'PersistentVolumeClaim')) {
    const min = it.min?.storage;
    const max = it.max?.storage;
    const req = r.requests?.storage;
    if (min !== undefined && req !== undefined && milli(req) < milli(min)) out.push(`minimum storage usage per PersistentVolumeClaim is ${formatLike(milli(min), min)}, but request is ${formatLike(milli(req), req)}`);
    if (max !== undefined && req !== undefined && milli(req) > milli(max)) out.push(`maximum storage usage per PersistentVolumeClaim is ${formatLike(milli(max), max)}, but request is ${formatLike(milli(req), req)}`);
  }
  return out;
}

/** Kubernetes' aggregate formatting: one error as is, several as `[a, b]`. */
export function aggregate(msgs: string[]): string {
  return msgs.length === 1 ? msgs[0]! : `[${msgs.join(', ')}]`;
}
