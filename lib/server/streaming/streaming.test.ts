import t from 'tap';
import { ApiError } from '../../client/types.ts';
import { pickContainer } from './index.ts';

const pod = (status: Record<string, unknown> = {}, containers = ['c']) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
  spec: { nodeName: 'n1', containers: containers.map((name) => ({ name })) },
  status,
});
const msg = (fn: () => unknown) => { try { fn(); return ''; } catch (e) { return e instanceof ApiError ? `${e.code} ${e.message}` : String(e); } };

t.test('pickContainer answers as the upstream API server does', async (t) => {
  t.equal(msg(() => pickContainer(pod(), undefined, false)), '400 container "c" in pod "p" is waiting to start: ContainerCreating');
  t.equal(msg(() => pickContainer(pod({ containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ImagePullBackOff' } } }] }), 'c', false)), '400 container "c" in pod "p" is waiting to start: ImagePullBackOff');
  t.equal(pickContainer(pod({ containerStatuses: [{ name: 'c', state: { running: {} } }] }), undefined, false), 'c');
  t.equal(msg(() => pickContainer(pod({ containerStatuses: [{ name: 'c', state: { running: {} } }] }), undefined, true)), '400 previous terminated container "c" in pod "p" not found');
  t.equal(pickContainer(pod({ containerStatuses: [{ name: 'c', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: {} } }] }), 'c', true), 'c');
  t.equal(msg(() => pickContainer(pod({}, ['a', 'b']), undefined, false)), '400 a container name must be specified for pod p, choose one of: [a b]');
  t.equal(msg(() => pickContainer(pod(), 'x', false)), '400 container x is not valid for pod p');
});
