// The Priority admission plugin, as in Kubernetes: a new pod's spec.priorityClassName resolves to spec.priority and
// spec.preemptionPolicy (the globalDefault class, or priority 0 / PreemptLowerPriority, when it names none); an
// unknown class is refused with 403. Only one PriorityClass may be the global default. tsk's pod defaults already
// filled priority 0 and PreemptLowerPriority, so those values count as "not given" here.
// Like upstream's informer lister, the classes are read from a short-lived cache (one list per second at most, not
// one per pod), dropped on every PriorityClass write seen here and re-read when a pod names a class it lacks.
import type { KubeObject } from '../../client/types.ts';
import type { AdmissionAttributes } from '../registry/admission.ts';
import { forbiddenError } from './errors.ts';

const PRIORITY_CLASSES = { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' };

/** What the plugin reads: every PriorityClass (a handful per cluster). */
export interface PriorityLookup {
  list(ref: typeof PRIORITY_CLASSES, namespace: string): Promise<KubeObject[]>;
}

const CACHE_MS = 1000;
const cache = new WeakMap<PriorityLookup, { at: number; classes: Promise<KubeObject[]> }>();

function priorityClasses(look: PriorityLookup, fresh: boolean, now = Date.now()): Promise<KubeObject[]> {
  const hit = cache.get(look);
  if (hit && !fresh && now - hit.at < CACHE_MS && now >= hit.at) return hit.classes;
  const classes = look.list(PRIORITY_CLASSES, '');
  cache.set(look, { at: now, classes });
  classes.catch(() => cache.delete(look));
  return classes;
}

/** The global default class: among those marked globalDefault, the one with the lowest value (as upstream). */
export function defaultPriorityClass(classes: readonly KubeObject[]): KubeObject | undefined {
  let best: KubeObject | undefined;
  for (const c of classes) if (c.globalDefault && (!best || (c.value ?? 0) < (best.value ?? 0))) best = c;
  return best;
}

/** Fills priority and preemptionPolicy of a pod being created; returns the refusal reason, if any. */
export function resolvePodPriority(spec: Record<string, any>, classes: readonly KubeObject[]): string | undefined {
  let priority = 0;
  let policy = 'PreemptLowerPriority';
  if (!spec.priorityClassName) {
    const d = defaultPriorityClass(classes);
    if (d) {
      spec.priorityClassName = d.metadata.name;
      priority = d.value ?? 0;
      policy = d.preemptionPolicy ?? policy;
    }
  } else {
    const pc = classes.find((c) => c.metadata.name === spec.priorityClassName);
    if (!pc) return `no PriorityClass with name ${spec.priorityClassName} was found`;
    priority = pc.value ?? 0;
    policy = pc.preemptionPolicy ?? policy;
  }
  if (typeof spec.priority === 'number' && spec.priority !== 0 && spec.priority !== priority) {
    return `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`;
  }
  spec.priority = priority;
  if (spec.preemptionPolicy && spec.preemptionPolicy !== 'PreemptLowerPriority' && spec.preemptionPolicy !== policy) {
    return `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`;
  }
  spec.preemptionPolicy = policy;
  return undefined;
}

export async function priorityAdmission(look: PriorityLookup, a: AdmissionAttributes): Promise<void> {
  const classWrite = a.group === 'scheduling.k8s.io' && a.resource === 'priorityclasses';
  if (classWrite) cache.delete(look);
  if (a.subresource || !a.object) return;
  if (!a.group && a.resource === 'pods') {
    if (a.operation === 'UPDATE') {
      // Set once at creation and immutable: keep it when an update (with tsk's defaults) lost it.
      const spec = a.object.spec, old = a.oldObject?.spec;
      if (spec && old) {
        if (typeof old.priority === 'number' && (spec.priority === undefined || (spec.priority === 0 && old.priority !== 0))) spec.priority = old.priority;
        if (old.preemptionPolicy && (!spec.preemptionPolicy || (spec.preemptionPolicy === 'PreemptLowerPriority' && old.preemptionPolicy !== spec.preemptionPolicy))) spec.preemptionPolicy = old.preemptionPolicy;
      }
      return;
    }
    if (a.operation !== 'CREATE') return;
    a.object.spec ??= {};
    let classes = await priorityClasses(look, false);
    const name = a.object.spec.priorityClassName;
    if (name && !classes.some((c) => c.metadata.name === name)) classes = await priorityClasses(look, true);
    const why = resolvePodPriority(a.object.spec, classes);
    if (why) throw forbiddenError(a, why);
    return;
  }
  if (classWrite && (a.operation === 'CREATE' || a.operation === 'UPDATE') && a.object.globalDefault) {
    const d = defaultPriorityClass((await look.list(PRIORITY_CLASSES, '')).filter((c) => a.operation === 'CREATE' || c.metadata.name !== a.object!.metadata.name));
    if (d) throw forbiddenError(a, `PriorityClass ${d.metadata.name} is already marked as default. Only one default can exist`);
  }
}
