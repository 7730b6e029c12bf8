import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { decodeProtobufObject, encodeProtobufObject, isProtobuf } from './index.ts';

// Bodies recorded from /usr/bin/kubectl 1.32 (create namespace|configmap|secret generic|deployment, autoscale).
const fixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, 'testdata', name));

t.test('bodies the real kubectl sends', async (t) => {
  t.same(decodeProtobufObject(fixture('namespace.bin')), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' }, spec: {}, status: {} });
  t.same(decodeProtobufObject(fixture('configmap.bin')), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm1' }, data: { empty: '', k: 'v' } });
  t.same(decodeProtobufObject(fixture('secret.bin')), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1' }, data: { a: Buffer.from('b').toString('base64') } });
  const d = decodeProtobufObject(fixture('deployment.bin')) as any;
  t.equal(d.apiVersion, 'apps/v1');
  t.same(d.metadata, { name: 'web', labels: { app: 'web' } });
  t.equal(d.spec.replicas, 2);
  t.same(d.spec.selector, { matchLabels: { app: 'web' } });
  t.same(d.spec.template.spec.containers, [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: {} }]);
  const dc = decodeProtobufObject(fixture('deployment-command.bin')) as any;
  t.same(dc.spec.template.spec.containers[0].command, ['sleep', '3600']);
  t.same(decodeProtobufObject(fixture('hpa.bin')), {
    apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 },
    status: {},
  });
});

t.test('more kinds from kubectl create', async (t) => {
  const d = (n: string) => decodeProtobufObject(fixture(`${n}.bin`)) as any;
  t.same(d('roles').rules, [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'configmaps'], resourceNames: ['x'] }]);
  t.same(d('rolebindings').subjects, [
    { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' },
    { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' },
    { kind: 'ServiceAccount', name: 'sa1', namespace: 'default' },
  ]);
  t.same(d('rolebindings').roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r1' });
  t.same(d('clusterroles').rules, [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]);
  t.equal(d('clusterrolebindings').roleRef.kind, 'ClusterRole');
  t.same(d('poddisruptionbudgets').spec, { selector: { matchLabels: { app: 'web' } }, maxUnavailable: '25%' });
  t.same(d('ingresses').spec, {
    tls: [{ hosts: ['a.com'], secretName: 'sec' }], ingressClassName: 'nginx',
    rules: [{ host: 'a.com', http: { paths: [{ path: '/path', pathType: 'Prefix', backend: { service: { name: 'svc', port: { number: 80 } } } }] } }],
  });
  t.same(d('services').spec, { ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }], selector: { app: 's1' }, type: 'NodePort' });
  t.same(d('serviceaccounts'), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa1' } });
  t.same(d('resourcequotas').spec, { hard: { pods: '10', 'requests.cpu': '2' } });
  t.same(d('jobs').spec.template.spec, { containers: [{ name: 'j1', image: 'busybox', command: ['echo', 'hi'], resources: {} }], restartPolicy: 'Never' });
  t.equal(d('cronjobs').spec.schedule, '*/5 * * * *');
  t.equal(d('cronjobs').spec.jobTemplate.spec.template.spec.restartPolicy, 'OnFailure');
});

t.test('round trip of a full deployment', async (t) => {
  const dep = {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'd', namespace: 'ns', labels: { a: 'b' }, annotations: { x: '' }, creationTimestamp: '2024-05-01T10:00:00Z', ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'o', uid: 'u', controller: true }], finalizers: ['f'] },
    spec: {
      replicas: 0, revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
      selector: { matchLabels: { a: 'b' }, matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }] },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: {
        metadata: { labels: { a: 'b' } },
        spec: {
          containers: [{
            name: 'c', image: 'img', args: ['--x'], imagePullPolicy: 'IfNotPresent',
            env: [{ name: 'E', value: 'v' }, { name: 'F', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k', optional: false } } }, { name: 'G', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }],
            envFrom: [{ secretRef: { name: 's' } }],
            ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
            volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
            livenessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, periodSeconds: 10, failureThreshold: 3 },
            readinessProbe: { tcpSocket: { port: 8080 } },
            startupProbe: { exec: { command: ['true'] } },
            securityContext: { runAsUser: 0, privileged: false, capabilities: { add: ['NET_ADMIN'] } },
          }],
          volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cm', defaultMode: 420 } }, { name: 'sec', secret: { secretName: 's' } }, { name: 'h', hostPath: { path: '/x', type: 'Directory' } }],
          nodeSelector: { 'kubernetes.io/os': 'linux' }, terminationGracePeriodSeconds: 30,
          tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }],
          restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', automountServiceAccountToken: false,
        },
      },
    },
  };
  const bytes = encodeProtobufObject(dep);
  t.same(Array.from(bytes.subarray(0, 4)), [0x6b, 0x38, 0x73, 0]);
  t.same(decodeProtobufObject(bytes), dep);
  const del = { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Background', preconditions: { uid: 'u' } };
  t.same(decodeProtobufObject(encodeProtobufObject(del)), del);
});

t.test('errors and content types', async (t) => {
  t.ok(isProtobuf('application/vnd.kubernetes.protobuf'));
  t.ok(isProtobuf('application/vnd.kubernetes.protobuf; charset=x'));
  t.notOk(isProtobuf('application/json'));
  t.throws(() => decodeProtobufObject(Buffer.from('{"a":1}')), { code: 400 });
  const ns = fixture('namespace.bin');
  const other = Buffer.from(ns);
  // Rename the kind inside the envelope to one we do not describe: Namespace -> Namespaze.
  const i = other.indexOf('Namespace');
  other.write('Namespaze', i);
  t.throws(() => decodeProtobufObject(other), { code: 415 });
  t.throws(() => decodeProtobufObject(Buffer.concat([Buffer.from('k8s\0'), Buffer.from([0x0a, 0xff])])), { code: 400 });
});

t.test('CertificateSigningRequest (kubectl certificate approve PUTs it to /approval as protobuf)', async (t) => {
  const csr = {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest',
    metadata: { name: 'jane', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { request: Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\n').toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', expirationSeconds: 600, usages: ['client auth'], username: 'system:admin', groups: ['system:masters'] },
    status: { conditions: [{ type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'ok', lastUpdateTime: '2026-01-01T00:00:01Z' }] },
  };
  t.same(decodeProtobufObject(encodeProtobufObject(csr)), csr);
});
