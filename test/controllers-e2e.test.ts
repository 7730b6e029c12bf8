// Controllers and the scheduler end to end, without containers: `tsk server --disable-agent --sim-nodes 3` and the
// real kubectl. Simulated nodes (lib/sim) take bound pods to Running; pods whose command is `true` complete.
import t from 'tap';
import { kc, kubectl, startServer, waitFor, type TskProcess } from './harness.ts';

const json = (s: TskProcess, args: string[]) => JSON.parse(kc(s, [...args, '-o', 'json']));
const pods = (s: TskProcess, selector: string, ns = 'default') =>
  (json(s, ['get', 'pods', '-n', ns, '-l', selector]).items as { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status: { phase?: string } }[]);
const live = (s: TskProcess, selector: string, ns = 'default') => pods(s, selector, ns).filter((p) => !p.metadata.deletionTimestamp);
const running = (s: TskProcess, selector: string, ns = 'default') => live(s, selector, ns).filter((p) => p.status.phase === 'Running');
const gone = (s: TskProcess, args: string[]) => {
  const r = kubectl(s, ['get', ...args]);
  if (r.status === 0) return false;
  if (/NotFound|not found/.test(r.stderr)) return true;
  throw new Error(r.stderr);
};

const deployment = (name: string, replicas: number, extra: Record<string, unknown> = {}) => JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: {
    replicas, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox:latest' }], ...extra } },
  },
});

t.test('controllers and scheduler with simulated nodes and the real kubectl', async (t) => {
  const s = await startServer(t, { disableAgent: true, keepPods: true, args: ['--sim-nodes', '3'] });
  await waitFor('3 simulated nodes Ready', () => {
    const n = json(s, ['get', 'nodes']).items as { status: { conditions?: { type: string; status: string }[] } }[];
    return n.length === 3 && n.every((x) => x.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }, 60_000);

  t.test('deployment: create, scale, rolling update, undo, rollout status', async (t) => {
    kc(s, ['create', 'deployment', 'web', '--image=busybox:1', '--replicas=3']);
    t.match(kc(s, ['rollout', 'status', 'deployment/web', '--timeout=60s']), /successfully rolled out/);
    t.equal(running(s, 'app=web').length, 3);
    kc(s, ['scale', 'deployment/web', '--replicas=5']);
    t.match(kc(s, ['rollout', 'status', 'deployment/web', '--timeout=60s']), /successfully rolled out/);
    await waitFor('5 running', () => running(s, 'app=web').length === 5);
    kc(s, ['set', 'image', 'deployment/web', 'busybox=busybox:2']);
    t.match(kc(s, ['rollout', 'status', 'deployment/web', '--timeout=90s']), /successfully rolled out/);
    const d = json(s, ['get', 'deployment', 'web']);
    t.equal(d.status.updatedReplicas, 5);
    t.equal(d.status.availableReplicas, 5);
    await waitFor('old pods gone', () => {
      const ps = json(s, ['get', 'pods', '-l', 'app=web']).items as { spec: { containers: { image: string }[] } }[];
      return ps.length === 5 && ps.every((p) => p.spec.containers[0]!.image === 'busybox:2');
    });
    kc(s, ['rollout', 'undo', 'deployment/web']);
    t.match(kc(s, ['rollout', 'status', 'deployment/web', '--timeout=90s']), /successfully rolled out/);
    t.equal(kc(s, ['get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'busybox:1');
    t.match(kc(s, ['rollout', 'history', 'deployment/web']), /REVISION/);
  });

  t.test('daemonset: one pod on each of the 3 nodes', async (t) => {
    kc(s, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'busybox:latest' }] } } },
    }));
    t.match(kc(s, ['rollout', 'status', 'daemonset/agent', '--timeout=60s']), /successfully rolled out/);
    const nodes = running(s, 'app=agent').map((p) => p.spec.nodeName).sort();
    t.same(nodes, ['sim-1', 'sim-2', 'sim-3']);
    kc(s, ['delete', 'daemonset', 'agent']);
  });

  t.test('statefulset: ordered start', async (t) => {
    // Pods may only run on a node labelled ss=ok: web-0 stays Pending, and OrderedReady must not create web-1.
    kc(s, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' },
      spec: {
        serviceName: 'db', replicas: 3, selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { nodeSelector: { ss: 'ok' }, containers: [{ name: 'c', image: 'busybox:latest' }] } },
      },
    }));
    await waitFor('db-0 created', () => pods(s, 'app=db').length === 1);
    await new Promise((r) => setTimeout(r, 3000));
    t.same(pods(s, 'app=db').map((p) => p.metadata.name), ['db-0'], 'no db-1 while db-0 is not Ready');
    kc(s, ['label', 'node', 'sim-1', 'ss=ok']);
    t.match(kc(s, ['rollout', 'status', 'statefulset/db', '--timeout=60s']), /roll out complete|rolling update complete|partitioned roll out complete/);
    t.same(running(s, 'app=db').map((p) => p.metadata.name).sort(), ['db-0', 'db-1', 'db-2']);
    kc(s, ['delete', 'statefulset', 'db']);
    kc(s, ['label', 'node', 'sim-1', 'ss-']);
  });

  t.test('job with 2 completions, and a cronjob', async (t) => {
    kc(s, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'twice' },
      spec: { completions: 2, parallelism: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:latest', command: ['true'] }] } } },
    }));
    kc(s, ['wait', '--for=condition=Complete', 'job/twice', '--timeout=60s']);
    t.equal(kc(s, ['get', 'job', 'twice', '-o', 'jsonpath={.status.succeeded}']), '2');
    kc(s, ['create', 'cronjob', 'tick', '--image=busybox:latest', '--schedule=*/30 * * * *', '--', 'true']);
    t.match(kc(s, ['get', 'cronjobs']), /tick\s+\*\/30 \* \* \* \*/);
    kc(s, ['create', 'job', 'tick-manual', '--from=cronjob/tick']);
    kc(s, ['wait', '--for=condition=Complete', 'job/tick-manual', '--timeout=60s']);
    t.equal(kc(s, ['get', 'job', 'tick-manual', '-o', 'jsonpath={.metadata.annotations.cronjob\\.kubernetes\\.io/instantiate}']), 'manual');
    kc(s, ['delete', 'cronjob', 'tick']);
    kc(s, ['delete', 'job', 'twice']);
  });

  t.test('namespace deletion cascades', async (t) => {
    kc(s, ['create', 'namespace', 'doomed']);
    kc(s, ['-n', 'doomed', 'create', 'deployment', 'app', '--image=busybox:latest', '--replicas=2']);
    kc(s, ['-n', 'doomed', 'create', 'configmap', 'cfg', '--from-literal=a=b']);
    await waitFor('pods in doomed', () => running(s, 'app=app', 'doomed').length === 2);
    kc(s, ['delete', 'namespace', 'doomed', '--wait=false']);
    await waitFor('namespace gone', () => gone(s, ['namespace', 'doomed']), 90_000);
    t.equal(kc(s, ['get', 'pods', '-A', '-l', 'app=app', '-o', 'name']).trim(), '');
  });

  t.test('deleting an owner cascades by propagation policy', async (t) => {
    kc(s, ['apply', '-f', '-'], deployment('orph', 2));
    await waitFor('orph pods', () => running(s, 'app=orph').length === 2);
    kc(s, ['delete', 'deployment', 'orph', '--cascade=orphan']);
    await waitFor('deployment gone', () => gone(s, ['deployment', 'orph']));
    await new Promise((r) => setTimeout(r, 2000));
    const rs = json(s, ['get', 'replicasets', '-l', 'app=orph']).items as { metadata: { name: string; ownerReferences?: unknown[] } }[];
    t.equal(rs.length, 1, 'orphan: the replicaset stays');
    await waitFor('owner reference removed', () => !(json(s, ['get', 'replicaset', rs[0]!.metadata.name]).metadata.ownerReferences?.length));
    t.equal(running(s, 'app=orph').length, 2, 'orphan: pods stay');
    kc(s, ['delete', 'replicaset', rs[0]!.metadata.name, '--cascade=foreground', '--timeout=60s']);
    t.equal(live(s, 'app=orph').length, 0, 'foreground: pods are gone once the owner is');
    kc(s, ['apply', '-f', '-'], deployment('bg', 2));
    await waitFor('bg pods', () => running(s, 'app=bg').length === 2);
    kc(s, ['delete', 'deployment', 'bg', '--cascade=background']);
    await waitFor('background: replicaset and pods collected', () => kc(s, ['get', 'replicasets,pods', '-l', 'app=bg', '-o', 'name']).trim() === '');
    t.pass('background cascade');
  });

  t.test('cordon and drain respect a PodDisruptionBudget', async (t) => {
    kc(s, ['apply', '-f', '-'], deployment('guarded', 1, { nodeSelector: { 'kubernetes.io/hostname': 'sim-2' } }));
    await waitFor('guarded running', () => running(s, 'app=guarded').length === 1);
    kc(s, ['create', 'pdb', 'guarded', '--selector=app=guarded', '--min-available=1']);
    kc(s, ['create', 'pdb', 'web', '--selector=app=web', '--min-available=2']);
    await waitFor('pdb status', () => kc(s, ['get', 'pdb', 'web', '-o', 'jsonpath={.status.disruptionsAllowed}']) === '3');
    // Concurrent evictions under one budget may answer 409 Conflict (the eviction subresource does not retry its
    // budget update itself yet); drain is idempotent, so run it again as a user would.
    let r = kubectl(s, ['drain', 'sim-1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s']);
    for (let i = 0; i < 4 && r.status !== 0 && /modified|Conflict/.test(r.stderr); i++) r = kubectl(s, ['drain', 'sim-1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s']);
    t.equal(r.status, 0, `drain sim-1 succeeds: ${r.stderr}`);
    t.equal(kc(s, ['get', 'node', 'sim-1', '-o', 'jsonpath={.spec.unschedulable}']), 'true');
    await waitFor('web back to 5 elsewhere', () => {
      const ps = running(s, 'app=web');
      return ps.length === 5 && ps.every((p) => p.spec.nodeName !== 'sim-1');
    });
    const blocked = kubectl(s, ['drain', 'sim-2', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=8s']);
    t.not(blocked.status, 0, 'drain of sim-2 is blocked by the guarded PDB');
    t.match(blocked.stderr + blocked.stdout, /disruption budget|Cannot evict|global timeout/);
    t.equal(running(s, 'app=guarded').length, 1, 'the guarded pod still runs');
    kc(s, ['uncordon', 'sim-1']);
    kc(s, ['uncordon', 'sim-2']);
    kc(s, ['delete', 'pdb', 'guarded', 'web']);
    kc(s, ['delete', 'deployment', 'guarded', 'web']);
  });

  t.test('taints and node affinity are honoured', async (t) => {
    kc(s, ['taint', 'node', 'sim-2', 'dedicated=x:NoSchedule']);
    kc(s, ['apply', '-f', '-'], deployment('spread', 6));
    await waitFor('spread running', () => running(s, 'app=spread').length === 6);
    t.notOk(running(s, 'app=spread').some((p) => p.spec.nodeName === 'sim-2'), 'no pod on the tainted node');
    kc(s, ['apply', '-f', '-'], deployment('pinned', 3, {
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['sim-3'] }] }] } } },
    }));
    await waitFor('pinned running', () => running(s, 'app=pinned').length === 3);
    t.ok(running(s, 'app=pinned').every((p) => p.spec.nodeName === 'sim-3'), 'required node affinity');
    kc(s, ['taint', 'node', 'sim-2', 'dedicated-']);
    kc(s, ['delete', 'deployment', 'spread', 'pinned']);
  });

  t.test('a node that stops heartbeating: NotReady, unreachable taint, pods evicted and rescheduled', async (t) => {
    const tol = ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready'].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }));
    kc(s, ['apply', '-f', '-'], deployment('hb', 6, { tolerations: tol }));
    await waitFor('hb running', () => running(s, 'app=hb').length === 6);
    // The node holding the most replicas loses power.
    const count = (n: string) => running(s, 'app=hb').filter((p) => p.spec.nodeName === n).length;
    const dead = ['sim-1', 'sim-2', 'sim-3'].sort((a, b) => count(b) - count(a))[0]!;
    const victims = running(s, 'app=hb').filter((p) => p.spec.nodeName === dead).map((p) => p.metadata.name);
    t.ok(victims.length > 0, `replicas on ${dead}: ${victims.length}`);
    kc(s, ['annotate', 'node', dead, 'sim.tsk.io/heartbeat=stopped']);
    await waitFor(`${dead} not Ready`, () => kc(s, ['get', 'node', dead, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']) !== 'True', 90_000, 1000);
    await waitFor('unreachable taint', () => /node\.kubernetes\.io\/unreachable/.test(kc(s, ['get', 'node', dead, '-o', 'jsonpath={.spec.taints[*].key}'])), 30_000, 1000);
    await waitFor('pods rescheduled onto the others', () => {
      const ps = running(s, 'app=hb');
      return ps.length === 6 && ps.every((p) => p.spec.nodeName !== dead);
    }, 60_000, 1000);
    const still = live(s, 'app=hb').map((p) => p.metadata.name);
    t.notOk(victims.some((v) => still.includes(v)), `the pods on ${dead} were evicted`);
  });
});
