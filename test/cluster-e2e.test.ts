// Three machines emulated with network namespaces on one L2 segment: a tsk server and two agents, each with its own
// data dir and containerd. Pods, services, NodePorts and cluster DNS must work across nodes (VXLAN overlay).
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxImageArchive } from '../lib/agent/images/builtin.ts';
import { createNetworkOfNodes, inNetns, kc, kubectl, startAgent, startServer, tempDir, waitFor } from './harness.ts';

const WEB = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: web, namespace: default}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: busybox:latest
        command: [sh, -c, 'hostname > /tmp/index.html && exec httpd -f -p 8080 -h /tmp']
        ports: [{containerPort: 8080, name: http}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
`;

function seedImages(dataDir: string): void {
  mkdirSync(join(dataDir, 'agent/images'), { recursive: true });
  writeFileSync(join(dataDir, 'agent/images/busybox.tar'), busyboxImageArchive());
}

function clientPod(name: string, node: string, script: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { nodeName: node, restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:latest', command: ['sh', '-c', script] }] },
  });
}

t.test('a server and two agents form one cluster', async (t) => {
  const { namespaces, addresses } = createNetworkOfNodes(t, 3);
  const serverDir = tempDir(t, 'tsk-cluster-s-');
  seedImages(serverDir);
  const server = await startServer(t, { netns: namespaces[0], dataDir: serverDir, nodeName: 'node-0', args: ['--node-ip', addresses[0]!] });
  const token = readFileSync(join(serverDir, 'server/token'), 'utf8').trim();
  t.match(token, /^K10[0-9a-f]{64}::server:/);
  for (const i of [1, 2]) {
    const dataDir = tempDir(t, `tsk-cluster-a${i}-`);
    seedImages(dataDir);
    startAgent(t, { server: `https://${addresses[0]}:${server.port}`, token, nodeName: `node-${i}`, netns: namespaces[i], dataDir, args: ['--node-ip', addresses[i]!] });
  }
  await waitFor('three Ready nodes', () => {
    const out = kubectl(server, ['get', 'nodes', '--no-headers']).stdout;
    return (out.match(/\sReady\s/g) ?? []).length === 3;
  }, 150_000);
  const cidrs = kc(server, ['get', 'nodes', '-o', 'jsonpath={.items[*].spec.podCIDR}']).trim().split(/\s+/).sort();
  t.same(cidrs, ['10.42.0.0/24', '10.42.1.0/24', '10.42.2.0/24'], 'each node gets its own /24');

  kc(server, ['apply', '-f', '-'], WEB);
  t.match(kc(server, ['rollout', 'status', 'daemonset/web', '--timeout=150s']), /successfully rolled out/);
  const pods = JSON.parse(kc(server, ['get', 'pods', '-l', 'app=web', '-o', 'json'])).items as { spec: { nodeName: string }; status: { podIP: string } }[];
  t.same(pods.map((p) => p.spec.nodeName).sort(), ['node-0', 'node-1', 'node-2'], 'one web pod per node');
  const svc = JSON.parse(kc(server, ['get', 'service', 'web', '-o', 'json']));
  const clusterIp: string = svc.spec.clusterIP;
  const nodePort: number = svc.spec.ports[0].nodePort;
  await waitFor('endpoints ready', () => kc(server, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}']).trim().split(/\s+/).length === 3, 60_000);

  for (const [i, ns] of namespaces.entries()) {
    const viaClusterIp = await waitFor(`ClusterIP from node-${i}`, () => {
      const r = inNetns(ns, ['curl', '-s', '-m', '5', `http://${clusterIp}/`]);
      return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : '';
    }, 60_000);
    t.match(viaClusterIp, /^web-/, `the ClusterIP answers on node-${i}`);
    for (const addr of addresses) {
      const r = await waitFor(`NodePort ${addr} from node-${i}`, () => {
        const res = inNetns(ns, ['curl', '-s', '-m', '5', `http://${addr}:${nodePort}/`]);
        return res.status === 0 ? res.stdout.trim() : '';
      }, 60_000);
      t.match(r, /^web-/, `NodePort on ${addr} answers from node-${i}`);
    }
  }

  // Pods on every node reach pods on the other nodes directly (overlay) and the service by name (DNS).
  const targets = pods.map((p) => p.status.podIP).join(' ');
  for (const i of [0, 1, 2]) {
    const script = `for ip in ${targets}; do wget -qO- http://$ip:8080/ | grep -q web- || exit 1; done; wget -qO- http://web.default.svc.cluster.local/ | grep -q web-`;
    kc(server, ['create', '-f', '-'], clientPod(`client-${i}`, `node-${i}`, script));
  }
  for (const i of [0, 1, 2]) {
    const phase = await waitFor(`client-${i} finished`, () => {
      const p = kubectl(server, ['get', 'pod', `client-${i}`, '-o', 'jsonpath={.status.phase}']).stdout;
      return p === 'Succeeded' || p === 'Failed' ? p : '';
    }, 120_000);
    t.equal(phase, 'Succeeded', `pods on node-${i} reach every web pod and the service by name`);
  }
});
