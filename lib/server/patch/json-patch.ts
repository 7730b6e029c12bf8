// RFC 6902 JSON patch (application/json-patch+json): the one adapter over fast-json-patch.
import jsonpatch from 'fast-json-patch';
import { badPatch, unprocessablePatch } from './errors.ts';

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** Applies a JSON patch to a copy of original. Malformed patches give 400, failed operations 422. */
export function jsonPatch(original: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badPatch('json patch must be a JSON array of operations');
  patch.forEach((op, i) => {
    if (typeof op !== 'object' || op === null) throw badPatch(`json patch operation ${i} is not an object`);
    const o = op as Record<string, unknown>;
    if (typeof o.op !== 'string' || !OPS.has(o.op)) throw badPatch(`json patch operation ${i}: unknown op ${JSON.stringify(o.op)}`);
    if (typeof o.path !== 'string') throw badPatch(`json patch operation ${i}: missing path`);
    if ((o.op === 'add' || o.op === 'replace' || o.op === 'test') && !('value' in o)) throw badPatch(`json patch operation ${i}: missing value`);
    if ((o.op === 'move' || o.op === 'copy') && typeof o.from !== 'string') throw badPatch(`json patch operation ${i}: missing from`);
  });
  const doc = structuredClone(original ?? {});
  try {
    return jsonpatch.applyPatch(doc, structuredClone(patch) as jsonpatch.Operation[], true, true).newDocument;
  } catch (e) {
    const name = (e as { name?: string }).name ?? '';
    const index = (e as { index?: number }).index;
    const msg = (e as Error).message.split('\n')[0];
    if (name === 'TEST_OPERATION_FAILED') throw unprocessablePatch(`the server rejected our request due to an error in our request: test operation ${index} failed`);
    throw unprocessablePatch(`the server rejected our request due to an error in our request: ${name ? name + ': ' : ''}${msg}`);
  }
}
