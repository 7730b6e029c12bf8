// Three machines emulated with network namespaces on one L2 segment: a tsk server and two agents, each with its own
// data dir and containerd. Pods, services, NodePorts and cluster DNS must work across nodes (VXLAN overlay).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetworkOfNodes, inNetns, kc, kubectl, seedBusybox, startAgent, startServer, tempDir, waitFor } from './harness.ts';

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

const DB = `apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 8080, name: http}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: default}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: busybox:latest
        command: [sh, -c, 'hostname > /tmp/index.html && exec httpd -f -p 8080 -h /tmp']
`;

const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-allow-labelled, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {access: "true"}}}]
    ports: [{port: 8080}]
`;

function clientPod(name: string, node: string, script: string, labels: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels },
    spec: { nodeName: node, restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:latest', command: ['sh', '-c', script] }] },
  });
}

t.test('a server and two agents form one cluster', async (t) => {
  const { namespaces, addresses } = createNetworkOfNodes(t, 3);
  const agents: ReturnType<typeof startAgent>[] = [];
  const serverDir = tempDir(t, 'tsk-cluster-s-');
  seedBusybox(serverDir);
  const server = await startServer(t, { netns: namespaces[0], dataDir: serverDir, nodeName: 'node-0', args: ['--node-ip', addresses[0]!] });
  const token = readFileSync(join(serverDir, 'server/token'), 'utf8').trim();
  t.match(token, /^K10[0-9a-f]{64}::server:/);
  for (const i of [1, 2]) {
    const dataDir = tempDir(t, `tsk-cluster-a${i}-`);
    seedBusybox(dataDir);
    agents[i] = startAgent(t, { server: `https://${addresses[0]}:${server.port}`, token, nodeName: `node-${i}`, netns: namespaces[i], dataDir, args: ['--node-ip', addresses[i]!] });
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
  const finished = (name: string) => waitFor(`${name} finished`, () => {
    const p = kubectl(server, ['get', 'pod', name, '-o', 'jsonpath={.status.phase}']).stdout;
    return p === 'Succeeded' || p === 'Failed' ? p : '';
  }, 120_000);
  for (const i of [0, 1, 2]) t.equal(await finished(`client-${i}`), 'Succeeded', `pods on node-${i} reach every web pod and the service by name`);

  // LoadBalancer (ServiceLB): the nodes' addresses in status, the port answering on each of them.
  kc(server, ['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-lb', namespace: 'default' },
    spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 8081, targetPort: 8080 }] },
  }));
  const ingress = await waitFor('LoadBalancer ingress', () => {
    const ips = kc(server, ['get', 'service', 'web-lb', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}']).trim().split(/\s+/).filter(Boolean);
    return ips.length === 3 ? ips : undefined;
  }, 60_000);
  t.same([...ingress].sort(), [...addresses].sort(), 'every node address is an ingress of the LoadBalancer service');
  for (const addr of addresses) {
    const r = await waitFor(`LoadBalancer on ${addr}`, () => {
      const res = inNetns(namespaces[1]!, ['curl', '-s', '-m', '5', `http://${addr}:8081/`]);
      return res.status === 0 ? res.stdout.trim() : '';
    }, 60_000);
    t.match(r, /^web-/, `the LoadBalancer port answers on ${addr}`);
  }
  // Removing a service removes its rules on every node.
  const lbIp = kc(server, ['get', 'service', 'web-lb', '-o', 'jsonpath={.spec.clusterIP}']).trim();
  kc(server, ['delete', 'service', 'web-lb']);
  for (const ns of namespaces) {
    await waitFor(`rules of web-lb gone in ${ns}`, () => !inNetns(ns, ['iptables-save', '-t', 'nat']).stdout.includes(lbIp), 60_000);
  }
  t.pass('a deleted service leaves no rules behind');

  // Headless service and statefulset names resolve from pods.
  kc(server, ['apply', '-f', '-'], DB);
  t.match(kc(server, ['rollout', 'status', 'statefulset/db', '--timeout=150s']), /roll out complete|rolling update complete|partitioned roll out complete/);
  kc(server, ['create', '-f', '-'], clientPod('dns-client', 'node-2', 'nslookup db.default.svc.cluster.local | grep -c "^Address: 10.42" | grep -qx 2 && wget -qO- http://db-0.db.default.svc.cluster.local:8080/ | grep -q db-0 && wget -qO- http://db-1.db:8080/ | grep -q db-1'));
  t.equal(await finished('dns-client'), 'Succeeded', 'a headless service resolves to its pods and statefulset pods by name');

  // NetworkPolicy: only labelled pods may reach the web pods.
  kc(server, ['apply', '-f', '-'], POLICY);
  const target = pods.find((p) => p.spec.nodeName === 'node-1')!.status.podIP;
  await waitFor('policy in force', async () => {
    const name = `np-probe-${Math.random().toString(36).slice(2, 7)}`;
    kc(server, ['create', '-f', '-'], clientPod(name, 'node-2', `if timeout 3 wget -qO- http://${target}:8080/ >/dev/null; then exit 1; fi`));
    return (await finished(name)) === 'Succeeded';
  }, 90_000);
  kc(server, ['create', '-f', '-'], clientPod('np-denied', 'node-0', `if timeout 5 wget -qO- http://${target}:8080/ >/dev/null; then exit 1; fi`));
  // A new pod's IP reaches the other nodes' policy rules a moment after the pod starts (as with any enforcer): retry.
  kc(server, ['create', '-f', '-'], clientPod('np-allowed', 'node-0', `for i in $(seq 1 30); do timeout 5 wget -qO- http://${target}:8080/ | grep -q web- && exit 0; sleep 1; done; exit 1`, { access: 'true' }));
  t.equal(await finished('np-denied'), 'Succeeded', 'the policy blocks a pod without the label');
  t.equal(await finished('np-allowed'), 'Succeeded', 'the policy allows a labelled pod');

  // tsk killall leaves nothing behind on any node.
  await Promise.all(agents.filter(Boolean).map((a) => a.killall()));
  await server.killall();
  for (const ns of namespaces) {
    t.notMatch(inNetns(ns, ['iptables-save']).stdout, /TSK-/, `no TSK- chains left in ${ns}`);
    const links = inNetns(ns, ['ip', '-o', 'link', 'show']).stdout;
    t.notMatch(links, /cni0|tsk\.vxlan/, `no bridge or vxlan device left in ${ns}`);
  }
  const mounts = readFileSync('/proc/mounts', 'utf8');
  for (const dir of [server.dataDir, ...agents.filter(Boolean).map((a) => a.dataDir)]) t.notOk(mounts.includes(dir), `no mounts left under ${dir}`);
});
