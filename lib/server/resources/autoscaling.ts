// autoscaling HorizontalPodAutoscaler: stored as v2, served as v2 and v1. v1 carries what it cannot express in
// the autoscaling.alpha.kubernetes.io annotations, as upstream does, so a v1 round trip keeps v2 fields.
import type { KubeObject } from '../../client/types.ts';
import { age, ageColumn, column, nameColumn } from './table.ts';
import type { ResourceStrategy } from './types.ts';
import { invalid, required, validateMeta } from './validation.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const METRICS = 'autoscaling.alpha.kubernetes.io/metrics';
const CURRENT = 'autoscaling.alpha.kubernetes.io/current-metrics';
const CONDITIONS = 'autoscaling.alpha.kubernetes.io/conditions';
const BEHAVIOR = 'autoscaling.alpha.kubernetes.io/behavior';

const isCpuUtilization = (m: Obj) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization';

function toV1(o: KubeObject): KubeObject {
  const out = structuredClone(o);
  const ann: Record<string, string> = { ...out.metadata.annotations };
  const spec: Obj = out.spec ?? {};
  const metrics: Obj[] = spec.metrics ?? [];
  const cpu = metrics.find(isCpuUtilization);
  const rest = metrics.filter((m) => m !== cpu);
  const v1spec: Obj = { scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas };
  if (cpu) v1spec.targetCPUUtilizationPercentage = cpu.resource.target.averageUtilization;
  if (rest.length) ann[METRICS] = JSON.stringify(rest);
  if (spec.behavior) ann[BEHAVIOR] = JSON.stringify(spec.behavior);
  const st: Obj = out.status ?? {};
  const curCpu = (st.currentMetrics ?? []).find((m: Obj) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const curRest = (st.currentMetrics ?? []).filter((m: Obj) => m !== curCpu);
  if (curRest.length) ann[CURRENT] = JSON.stringify(curRest);
  if ((st.conditions ?? []).length) ann[CONDITIONS] = JSON.stringify(st.conditions);
  const v1status: Obj = { currentReplicas: st.currentReplicas ?? 0, desiredReplicas: st.desiredReplicas ?? 0 };
  if (st.observedGeneration != null) v1status.observedGeneration = st.observedGeneration;
  if (st.lastScaleTime) v1status.lastScaleTime = st.lastScaleTime;
  if (curCpu?.resource?.current?.averageUtilization != null) v1status.currentCPUUtilizationPercentage = curCpu.resource.current.averageUtilization;
  out.metadata.annotations = ann;
  if (!Object.keys(ann).length) delete out.metadata.annotations;
  return { ...out, apiVersion: 'autoscaling/v1', spec: v1spec, status: v1status };
}

function toV2(o: KubeObject): KubeObject {
  const out = structuredClone(o);
  const ann: Record<string, string> = { ...out.metadata.annotations };
  const take = (k: string): Obj[] | Obj | undefined => {
    const v = ann[k];
    delete ann[k];
    if (!v) return undefined;
    try { return JSON.parse(v); } catch { return undefined; }
  };
  const spec: Obj = out.spec ?? {};
  const metrics: Obj[] = [];
  if (spec.targetCPUUtilizationPercentage != null) metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } });
  metrics.push(...((take(METRICS) as Obj[] | undefined) ?? []));
  const v2spec: Obj = { scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas };
  if (metrics.length) v2spec.metrics = metrics;
  const behavior = take(BEHAVIOR);
  if (behavior) v2spec.behavior = behavior;
  const st: Obj = out.status ?? {};
  const current: Obj[] = [];
  if (st.currentCPUUtilizationPercentage != null) current.push({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: st.currentCPUUtilizationPercentage } } });
  current.push(...((take(CURRENT) as Obj[] | undefined) ?? []));
  const conditions = take(CONDITIONS);
  const v2status: Obj = { currentReplicas: st.currentReplicas ?? 0, desiredReplicas: st.desiredReplicas ?? 0 };
  if (st.observedGeneration != null) v2status.observedGeneration = st.observedGeneration;
  if (st.lastScaleTime) v2status.lastScaleTime = st.lastScaleTime;
  if (current.length) v2status.currentMetrics = current;
  if (conditions) v2status.conditions = conditions;
  out.metadata.annotations = ann;
  if (!Object.keys(ann).length) delete out.metadata.annotations;
  return { ...out, apiVersion: 'autoscaling/v2', spec: v2spec, status: o.status ? v2status : undefined };
}

function targets(o: Obj): string {
  const ms: Obj[] = o.spec?.metrics ?? [];
  if (!ms.length) return '<none>';
  const cur: Obj[] = o.status?.currentMetrics ?? [];
  const parts = ms.map((m) => {
    if (m.type === 'Resource' || m.type === 'ContainerResource') {
      const r = m.resource ?? m.containerResource ?? {};
      const c = cur.find((x) => x.type === m.type && (x.resource ?? x.containerResource)?.name === r.name);
      const cv = c ? (c.resource ?? c.containerResource).current : undefined;
      if (r.target?.type === 'Utilization') return `${r.name}: ${cv?.averageUtilization != null ? cv.averageUtilization + '%' : '<unknown>'}/${r.target.averageUtilization}%`;
      return `${r.name}: ${cv?.averageValue ?? '<unknown>'}/${r.target?.averageValue ?? r.target?.value ?? ''}`;
    }
    const t = m[m.type.charAt(0).toLowerCase() + m.type.slice(1)]?.target ?? {};
    return `<unknown>/${t.averageValue ?? t.value ?? ''}`;
  });
  return parts.length > 2 ? `${parts.slice(0, 2).join(', ')} + ${parts.length - 2} more...` : parts.join(', ');
}

export const horizontalpodautoscalers: ResourceStrategy = {
  group: 'autoscaling', versions: ['v2', 'v1'], kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler',
  shortNames: ['hpa'], categories: ['all'], namespaced: true, subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }],
  convert(o, toVersion) {
    const from = String(o.apiVersion ?? 'autoscaling/v2');
    if (from === `autoscaling/${toVersion}`) return o;
    return toVersion === 'v1' ? toV1(o) : toV2(o);
  },
  defaults(o) {
    o.spec ??= {};
    o.spec.minReplicas ??= 1;
    if (!(o.spec.metrics ?? []).length) o.spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  },
  validate(o) {
    const out = validateMeta(o);
    const s: Obj = o.spec ?? {};
    if (!s.scaleTargetRef?.kind) out.push(required('spec.scaleTargetRef.kind'));
    if (!s.scaleTargetRef?.name) out.push(required('spec.scaleTargetRef.name'));
    if (!(Number.isInteger(s.maxReplicas) && s.maxReplicas >= 1)) out.push(invalid('spec.maxReplicas', s.maxReplicas, 'must be greater than or equal to 1'));
    if (s.minReplicas != null && !(Number.isInteger(s.minReplicas) && s.minReplicas >= 1)) out.push(invalid('spec.minReplicas', s.minReplicas, 'must be greater than or equal to 1'));
    if (Number.isInteger(s.minReplicas) && Number.isInteger(s.maxReplicas) && s.minReplicas > s.maxReplicas) out.push(invalid('spec.maxReplicas', s.maxReplicas, 'must be greater than or equal to `minReplicas`'));
    return out;
  },
  prepareForCreate(o) { o.status = { currentReplicas: 0, desiredReplicas: 0 }; },
  columns: [nameColumn, column('Reference', 'string', 0, 'Reference to target resource'), column('Targets', 'string', 0, 'Current and desired metric values'),
    column('MinPods', 'string', 0, 'Minimum number of pods'), column('MaxPods', 'integer', 0, 'Maximum number of pods'),
    column('Replicas', 'integer', 0, 'Current number of pods'), ageColumn],
  cells: (o, now) => [o.metadata.name, `${o.spec?.scaleTargetRef?.kind ?? ''}/${o.spec?.scaleTargetRef?.name ?? ''}`, targets(o),
    o.spec?.minReplicas != null ? String(o.spec.minReplicas) : '<unset>', o.spec?.maxReplicas ?? 0, o.status?.currentReplicas ?? 0, age(o, now)],
};

export const autoscalingStrategies: ResourceStrategy[] = [horizontalpodautoscalers];
