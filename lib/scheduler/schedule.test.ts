import t from 'tap';
import type { KubeObject } from '../client/types.ts';
import { newNodeInfo } from './node-info.ts';
import { parseQuantity } from './quantity.ts';
import { schedulePod } from './schedule.ts';
import * as F from './filters.ts';

const node = (name: string, o: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: unknown[]; unschedulable?: boolean; ready?: string; images?: string[] } = {}): KubeObject => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
  spec: { taints: o.taints, unschedulable: o.unschedulable },
  status: {
    allocatable: { cpu: o.cpu ?? '2', memory: o.memory ?? '4Gi', pods: o.pods ?? '110' },
    conditions: [{ type: 'Ready', status: o.ready ?? 'True' }],
    images: o.images ? [{ names: o.images }] : undefined,
  },
});
let uid = 0;
const pod = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, namespace: 'default', uid: `u${++uid}`, ...meta },
  spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec },
});
const req = (cpu: string, memory = '0') => ({ containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu, memory } } }] });

t.test('quantities', async (t) => {
  t.equal(parseQuantity('250m'), 0.25);
  t.equal(parseQuantity('1Gi'), 2 ** 30);
  t.equal(parseQuantity('1e3'), 1000);
  t.equal(parseQuantity('128M'), 128e6);
  t.ok(Number.isNaN(parseQuantity('12x')));
});

type Case = { name: string; pod: KubeObject; nodes: { n: KubeObject; pods?: KubeObject[] }[]; want?: string; message?: string };
const cases: Case[] = [
  { name: 'single ready node', pod: pod('p'), nodes: [{ n: node('a') }], want: 'a' },
  { name: 'unschedulable node skipped', pod: pod('p'), nodes: [{ n: node('a', { unschedulable: true }) }, { n: node('b') }], want: 'b' },
  {
    name: 'k8s style message', pod: pod('p', req('3')),
    nodes: [{ n: node('a', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }) }, { n: node('b') }, { n: node('c') }],
    message: '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.',
  },
  { name: 'toleration admits tainted node', pod: pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'x', effect: 'NoSchedule' }], nodeSelector: { pool: 'x' } }),
    nodes: [{ n: node('a', { labels: { pool: 'x' }, taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] }) }, { n: node('b') }], want: 'a' },
  { name: 'Exists toleration with empty key tolerates all', pod: pod('p', { tolerations: [{ operator: 'Exists' }] }),
    nodes: [{ n: node('a', { taints: [{ key: 'k', value: 'v', effect: 'NoExecute' }] }) }], want: 'a' },
  { name: 'not ready node', pod: pod('p'), nodes: [{ n: node('a', { ready: 'False' }) }], message: '0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.' },
  { name: 'nodeSelector', pod: pod('p', { nodeSelector: { disk: 'ssd' } }), nodes: [{ n: node('a') }, { n: node('b', { labels: { disk: 'ssd' } }) }], want: 'b' },
  { name: 'nodeSelector mismatch message', pod: pod('p', { nodeSelector: { disk: 'ssd' } }), nodes: [{ n: node('a') }], message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector." },
  { name: 'required node affinity In', pod: pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z2'] }] }] } } } }),
    nodes: [{ n: node('a', { labels: { zone: 'z1' } }) }, { n: node('b', { labels: { zone: 'z2' } }) }], want: 'b' },
  { name: 'matchFields metadata.name', pod: pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }] } } } }),
    nodes: [{ n: node('a') }, { n: node('b') }], want: 'b' },
  { name: 'preferred node affinity', pod: pod('p', { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'fast', operator: 'Exists' }] } }] } } }),
    nodes: [{ n: node('a') }, { n: node('b', { labels: { fast: '1' } }) }], want: 'b' },
  { name: 'resources: requests vs allocatable minus bound pods', pod: pod('p', req('1')),
    nodes: [{ n: node('a'), pods: [pod('x', req('1500m'))] }, { n: node('b'), pods: [pod('y', req('500m'))] }], want: 'b' },
  { name: 'insufficient memory and cpu', pod: pod('p', req('3', '8Gi')), nodes: [{ n: node('a') }], message: '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.' },
  { name: 'too many pods', pod: pod('p'), nodes: [{ n: node('a', { pods: '1' }), pods: [pod('x')] }], message: '0/1 nodes are available: 1 Too many pods.' },
  { name: 'terminated pods free resources', pod: pod('p', req('2')), nodes: [{ n: node('a'), pods: [{ ...pod('x', req('2')), status: { phase: 'Succeeded' } }] }], want: 'a' },
  { name: 'host port conflict', pod: pod('p', { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080 }] }] }),
    nodes: [{ n: node('a'), pods: [pod('x', { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }] }] })] }, { n: node('b') }], want: 'b' },
  { name: 'host port different protocol ok', pod: pod('p', { containers: [{ name: 'c', ports: [{ containerPort: 53, hostPort: 53, protocol: 'UDP' }] }] }),
    nodes: [{ n: node('a'), pods: [pod('x', { containers: [{ name: 'c', ports: [{ containerPort: 53, hostPort: 53 }] }] })] }], want: 'a' },
  { name: 'pod anti-affinity hostname', pod: pod('p', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } } }, { labels: { app: 'db' } }),
    nodes: [{ n: node('a'), pods: [pod('x', {}, { labels: { app: 'db' } })] }, { n: node('b') }], want: 'b' },
  { name: 'pod anti-affinity unsatisfiable', pod: pod('p', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } } }),
    nodes: [{ n: node('a'), pods: [pod('x', {}, { labels: { app: 'db' } })] }], message: "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules." },
  { name: 'pod affinity follows the selected pod', pod: pod('p', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' }] } } }),
    nodes: [{ n: node('a') }, { n: node('b'), pods: [pod('x', {}, { labels: { app: 'cache' } })] }], want: 'b' },
  { name: 'existing pod anti-affinity rejects newcomer', pod: pod('p', {}, { labels: { app: 'web' } }),
    nodes: [{ n: node('a'), pods: [pod('x', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } } })] }, { n: node('b', { cpu: '1' }) }], want: 'b' },
  { name: 'least allocated prefers emptier node', pod: pod('p', req('100m')), nodes: [{ n: node('a'), pods: [pod('x', req('1'))] }, { n: node('b') }], want: 'b' },
  { name: 'PreferNoSchedule taint avoided', pod: pod('p'), nodes: [{ n: node('a', { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] }) }, { n: node('b') }], want: 'b' },
  { name: 'spreads replicas of one owner', pod: pod('p', {}, { ownerReferences: [{ uid: 'rs1', controller: true, kind: 'ReplicaSet', name: 'rs', apiVersion: 'apps/v1' }] }),
    nodes: [{ n: node('a'), pods: [pod('x', {}, { ownerReferences: [{ uid: 'rs1', controller: true }] })] }, { n: node('b'), pods: [pod('y', req('100m'))] }], want: 'b' },
  { name: 'image locality', pod: pod('p'), nodes: [{ n: node('a') }, { n: node('b', { images: ['docker.io/library/nginx:latest'] }) }], want: 'b' },
  { name: 'topology spread DoNotSchedule', pod: pod('p', { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'w' } } }] }, { labels: { app: 'w' } }),
    nodes: [{ n: node('a'), pods: [pod('x', {}, { labels: { app: 'w' } })] }, { n: node('b', { cpu: '1' }) }], want: 'b' },
  { name: 'requested nodeName', pod: pod('p', { nodeName: 'b' }), nodes: [{ n: node('a') }, { n: node('b') }], want: 'b' },
  { name: 'no nodes', pod: pod('p'), nodes: [], message: 'no nodes available to schedule pods' },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const infos = c.nodes.map(({ n, pods }) => newNodeInfo(n, (pods ?? []).map((p) => ({ ...p, spec: { ...p.spec, nodeName: n.metadata.name } }))));
    const r = schedulePod(c.pod, infos);
    if (c.want) t.equal(r.node, c.want, JSON.stringify(r));
    if (c.message) t.equal('message' in r ? r.message : r.node, c.message);
  });
}

t.test('volume binding: selected-node annotation', async (t) => {
  const p = pod('p', { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }] });
  const pvc = { metadata: { name: 'data', namespace: 'default', annotations: { 'volume.kubernetes.io/selected-node': 'b' } } };
  const r = schedulePod(p, [newNodeInfo(node('a')), newNodeInfo(node('b'))], { pvc: () => pvc });
  t.equal(r.node, 'b');
  t.same(F.volumeBinding(p, newNodeInfo(node('a')), { nodes: [], pvc: () => undefined }), ['persistentvolumeclaim "data" not found']);
});

t.test('volume binding: bound volume node affinity, immediate vs WaitForFirstConsumer claims', async (t) => {
  const p = pod('p', { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }] });
  const pv = { metadata: { name: 'pv1' }, spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['b'] }] }] } } } };
  const classes: Record<string, KubeObject> = { local: { metadata: { name: 'local' }, volumeBindingMode: 'WaitForFirstConsumer' }, fast: { metadata: { name: 'fast' }, volumeBindingMode: 'Immediate' } };
  const nodes = () => [newNodeInfo(node('a')), newNodeInfo(node('b'))];
  const claim = (spec: Record<string, unknown>) => ({ metadata: { name: 'data', namespace: 'default' }, spec });
  const run = (c: KubeObject) => schedulePod(p, nodes(), { pvc: () => c, pv: () => pv, storageClass: (n) => classes[n] });
  t.equal(run(claim({ volumeName: 'pv1' })).node, 'b', 'bound PV pins the node');
  t.equal(run(claim({ storageClassName: 'local' })).node, 'a', 'WaitForFirstConsumer: any node');
  const r = run(claim({ storageClassName: 'fast' }));
  t.equal('message' in r ? r.message : '', '0/2 nodes are available: 2 pod has unbound immediate PersistentVolumeClaims.');
});
