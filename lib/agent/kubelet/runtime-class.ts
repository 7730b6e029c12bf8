// The runtime handler of a pod: its RuntimeClass's handler ('' when the pod names no class: the runtime's default),
// as the kubelet's RuntimeClass manager resolves it. Classes are read with a GET per sandbox creation, and only for
// pods that name one (the RuntimeClass admission plugin already refused pods naming a missing class; this catches a
// class deleted since).
import { isNotFound, type Client } from '../../client/types.ts';
import type { Pod } from './pod-types.ts';

const RUNTIME_CLASSES = { group: 'node.k8s.io', version: 'v1', resource: 'runtimeclasses' };

export async function runtimeHandlerOf(client: Pick<Client, 'get'>, pod: Pod): Promise<string> {
  const name = pod.spec.runtimeClassName;
  if (!name) return '';
  try {
    const rc = await client.get(RUNTIME_CLASSES, name);
    return String(rc.handler ?? '');
  } catch (e) {
    if (isNotFound(e)) throw new Error(`RuntimeClass ${JSON.stringify(name)} not found`);
    throw new Error(`failed to lookup RuntimeClass ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
