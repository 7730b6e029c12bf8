// DELETE of one object: DeleteOptions from the body (JSON or protobuf) or the query.
import type { Context } from 'hono';
import type { DeleteOptions, KubeObject } from '../../client/types.ts';
import { decodeProtobufObject, isProtobuf } from '../protobuf/index.ts';
import { badRequest } from '../registry/errors.ts';
import { toVersion } from '../registry/object.ts';
import { negotiate, shaped } from './negotiate.ts';
import { intParam, parseJson, readBody, refuse, requireNamespace, writeContext, type ResourceRequest } from './request.ts';

export async function deleteOptions(c: Context, r: ResourceRequest): Promise<DeleteOptions> {
  const bytes = await readBody(c);
  let body: KubeObject | undefined;
  if (bytes.length) body = (isProtobuf(c.req.header('content-type')) ? decodeProtobufObject(bytes) : parseJson(bytes)) as KubeObject;
  const q = r.query;
  const opts: DeleteOptions = {};
  const grace = intParam(q, 'gracePeriodSeconds') ?? body?.gracePeriodSeconds;
  if (grace !== undefined && grace !== null) opts.gracePeriodSeconds = Number(grace);
  let policy = q.get('propagationPolicy') ?? body?.propagationPolicy;
  const orphan = q.get('orphanDependents') ?? body?.orphanDependents;
  if (!policy && orphan !== undefined && orphan !== null) policy = String(orphan) === 'true' ? 'Orphan' : 'Background';
  if (policy) {
    if (!['Background', 'Foreground', 'Orphan'].includes(policy)) throw badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"`);
    opts.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  }
  if (body?.preconditions) opts.preconditions = body.preconditions;
  if (body?.dryRun?.length && !q.has('dryRun')) for (const d of body.dryRun) q.append('dryRun', d);
  return opts;
}

export async function deleteHandler(c: Context, r: ResourceRequest): Promise<Response> {
  requireNamespace(r);
  if (!r.name || r.subresource) refuse('DELETE', r);
  const shape = negotiate(c);
  const opts = await deleteOptions(c, r);
  const res = await r.registry.delete(r.strategy, r.namespace, r.name, opts, writeContext(r));
  return shaped(c, r.strategy, shape, toVersion(r.strategy, res.object, r.version), r.registry.clock.now(), res.removed ? 200 : 202);
}
