// The scale subresource (autoscaling/v1 Scale) of any resource whose strategy names its replica paths.
import type { KubeObject } from '../../client/types.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import type { WriteContext } from './admission.ts';
import { badRequest, conflict, invalid, notFound } from './errors.ts';
import { getPath, setPath } from './object.ts';
import type { Registry } from './registry.ts';
import { formatLabelSelector, fromLabelSelectorObject } from './selectors.ts';

function scaleSpec(s: ResourceStrategy) {
  if (!s.scale) throw notFound({ group: s.group, plural: `${s.plural}/scale` }, '');
  return s.scale;
}

function selectorString(v: unknown): string {
  if (!v) return '';
  if (typeof v === 'string') return v;
  const o = v as Record<string, unknown>;
  if ('matchLabels' in o || 'matchExpressions' in o) return formatLabelSelector(fromLabelSelectorObject(o as never));
  return Object.entries(o).map(([k, x]) => `${k}=${String(x)}`).join(',');
}

export function toScale(s: ResourceStrategy, obj: KubeObject): KubeObject {
  const sc = scaleSpec(s);
  const m = obj.metadata;
  return {
    apiVersion: 'autoscaling/v1', kind: 'Scale',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: Number(getPath(obj, sc.specReplicasPath) ?? 0) },
    status: { replicas: Number(getPath(obj, sc.statusReplicasPath) ?? 0), selector: sc.labelSelectorPath ? selectorString(getPath(obj, sc.labelSelectorPath)) : undefined },
  };
}

export async function getScale(r: Registry, s: ResourceStrategy, namespace: string | undefined, name: string): Promise<KubeObject> {
  scaleSpec(s);
  return toScale(s, await r.get(s, namespace, name));
}

/** Read-modify-write of the replica count through a Scale: `next` maps the current Scale to the desired one. */
export async function updateScale(
  r: Registry, s: ResourceStrategy, namespace: string | undefined, name: string,
  next: (scale: KubeObject) => KubeObject, w: WriteContext = {},
): Promise<KubeObject> {
  const sc = scaleSpec(s);
  const res = await r.guaranteedUpdate(s, namespace, name, (cur) => {
    const want = next(toScale(s, cur));
    if (want.kind && want.kind !== 'Scale') throw badRequest(`the kind (${want.kind}) does not match Scale`);
    if (want.metadata?.name && want.metadata.name !== name) throw badRequest(`the name of the object (${want.metadata.name}) does not match the name on the URL (${name})`);
    const rv = want.metadata?.resourceVersion;
    if (rv && rv !== cur.metadata.resourceVersion) throw conflict(s, name);
    const replicas = want.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw invalid({ group: 'autoscaling', plural: 'scales', kind: 'Scale' }, name, [{ field: 'spec.replicas', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
    }
    setPath(cur as Record<string, unknown>, sc.specReplicasPath, replicas);
    return cur;
  }, w);
  return toScale(s, res.object);
}
