// Our own trimmed protobuf description of the kinds kubectl sends as application/vnd.kubernetes.protobuf, with the
// field numbers of k8s.io/api and k8s.io/apimachinery generated.proto. Fields we do not describe are skipped when
// decoding. All messages live in one package; names match the Go types.
export const K8S_PROTO = `
syntax = "proto2";
package k8s;

message Unknown { optional TypeMeta typeMeta = 1; optional bytes raw = 2; optional string contentEncoding = 3; optional string contentType = 4; }
message TypeMeta { optional string apiVersion = 1; optional string kind = 2; }

message Time { optional int64 seconds = 1; optional int32 nanos = 2; }
message IntOrString { optional int64 type = 1; optional int32 intVal = 2; optional string strVal = 3; }
message Quantity { optional string string = 1; }
message FieldsV1 { optional bytes Raw = 1; }

message ObjectMeta {
  optional string name = 1; optional string generateName = 2; optional string namespace = 3; optional string selfLink = 4;
  optional string uid = 5; optional string resourceVersion = 6; optional int64 generation = 7;
  optional Time creationTimestamp = 8; optional Time deletionTimestamp = 9; optional int64 deletionGracePeriodSeconds = 10;
  map<string, string> labels = 11; map<string, string> annotations = 12; repeated OwnerReference ownerReferences = 13;
  repeated string finalizers = 14; repeated ManagedFieldsEntry managedFields = 17;
}
message OwnerReference { optional string kind = 1; optional string name = 3; optional string uid = 4; optional string apiVersion = 5; optional bool controller = 6; optional bool blockOwnerDeletion = 7; }
message ManagedFieldsEntry { optional string manager = 1; optional string operation = 2; optional string apiVersion = 3; optional Time time = 4; optional string fieldsType = 6; optional FieldsV1 fieldsV1 = 7; optional string subresource = 8; }
message LabelSelector { map<string, string> matchLabels = 1; repeated LabelSelectorRequirement matchExpressions = 2; }
message LabelSelectorRequirement { optional string key = 1; optional string operator = 2; repeated string values = 3; }
message Preconditions { optional string uid = 1; optional string resourceVersion = 2; }
message DeleteOptions { optional int64 gracePeriodSeconds = 1; optional Preconditions preconditions = 2; optional bool orphanDependents = 3; optional string propagationPolicy = 4; repeated string dryRun = 5; optional bool ignoreStoreReadErrorWithClusterBreakingPotential = 6; }

message Namespace { optional ObjectMeta metadata = 1; optional NamespaceSpec spec = 2; optional NamespaceStatus status = 3; }
message NamespaceSpec { repeated string finalizers = 1; }
message NamespaceStatus { optional string phase = 1; repeated NamespaceCondition conditions = 2; }
message NamespaceCondition { optional string type = 1; optional string status = 2; optional Time lastTransitionTime = 4; optional string reason = 5; optional string message = 6; }

message ConfigMap { optional ObjectMeta metadata = 1; map<string, string> data = 2; map<string, bytes> binaryData = 3; optional bool immutable = 4; }
message Secret { optional ObjectMeta metadata = 1; map<string, bytes> data = 2; optional string type = 3; map<string, string> stringData = 4; optional bool immutable = 5; }

message Pod { optional ObjectMeta metadata = 1; optional PodSpec spec = 2; }
message PodTemplateSpec { optional ObjectMeta metadata = 1; optional PodSpec spec = 2; }
message PodSpec {
  repeated Volume volumes = 1; repeated Container containers = 2; optional string restartPolicy = 3;
  optional int64 terminationGracePeriodSeconds = 4; optional int64 activeDeadlineSeconds = 5; optional string dnsPolicy = 6;
  map<string, string> nodeSelector = 7; optional string serviceAccountName = 8; optional string serviceAccount = 9;
  optional string nodeName = 10; optional bool hostNetwork = 11; optional bool hostPID = 12; optional bool hostIPC = 13;
  optional PodSecurityContext securityContext = 14; repeated LocalObjectReference imagePullSecrets = 15;
  optional string hostname = 16; optional string subdomain = 17; optional Affinity affinity = 18; optional string schedulerName = 19;
  repeated Container initContainers = 20; optional bool automountServiceAccountToken = 21; repeated Toleration tolerations = 22;
  repeated HostAlias hostAliases = 23; optional string priorityClassName = 24; optional int32 priority = 25;
  optional PodDNSConfig dnsConfig = 26; optional bool shareProcessNamespace = 27; repeated PodReadinessGate readinessGates = 28;
  optional string runtimeClassName = 29; optional bool enableServiceLinks = 30; optional string preemptionPolicy = 31;
  map<string, Quantity> overhead = 32; repeated TopologySpreadConstraint topologySpreadConstraints = 33;
  optional bool setHostnameAsFQDN = 35; optional PodOS os = 36; optional bool hostUsers = 37;
  repeated PodSchedulingGate schedulingGates = 38; optional ResourceRequirements resources = 40;
}
message Container {
  optional string name = 1; optional string image = 2; repeated string command = 3; repeated string args = 4; optional string workingDir = 5;
  repeated ContainerPort ports = 6; repeated EnvVar env = 7; optional ResourceRequirements resources = 8; repeated VolumeMount volumeMounts = 9;
  optional Probe livenessProbe = 10; optional Probe readinessProbe = 11; optional Lifecycle lifecycle = 12;
  optional string terminationMessagePath = 13; optional string imagePullPolicy = 14; optional SecurityContext securityContext = 15;
  optional bool stdin = 16; optional bool stdinOnce = 17; optional bool tty = 18; repeated EnvFromSource envFrom = 19;
  optional string terminationMessagePolicy = 20; repeated VolumeDevice volumeDevices = 21; optional Probe startupProbe = 22;
  repeated ContainerResizePolicy resizePolicy = 23; optional string restartPolicy = 24;
}
message ContainerPort { optional string name = 1; optional int32 hostPort = 2; optional int32 containerPort = 3; optional string protocol = 4; optional string hostIP = 5; }
message EnvVar { optional string name = 1; optional string value = 2; optional EnvVarSource valueFrom = 3; }
message EnvVarSource { optional ObjectFieldSelector fieldRef = 1; optional ResourceFieldSelector resourceFieldRef = 2; optional ConfigMapKeySelector configMapKeyRef = 3; optional SecretKeySelector secretKeyRef = 4; }
message ObjectFieldSelector { optional string apiVersion = 1; optional string fieldPath = 2; }
message ResourceFieldSelector { optional string containerName = 1; optional string resource = 2; optional Quantity divisor = 3; }
message ConfigMapKeySelector { optional LocalObjectReference localObjectReference = 1; optional string key = 2; optional bool optional = 3; }
message SecretKeySelector { optional LocalObjectReference localObjectReference = 1; optional string key = 2; optional bool optional = 3; }
message EnvFromSource { optional string prefix = 1; optional ConfigMapEnvSource configMapRef = 2; optional SecretEnvSource secretRef = 3; }
message ConfigMapEnvSource { optional LocalObjectReference localObjectReference = 1; optional bool optional = 2; }
message SecretEnvSource { optional LocalObjectReference localObjectReference = 1; optional bool optional = 2; }
message LocalObjectReference { optional string name = 1; }
message ResourceRequirements { map<string, Quantity> limits = 1; map<string, Quantity> requests = 2; repeated ResourceClaim claims = 3; }
message ResourceClaim { optional string name = 1; optional string request = 2; }
message ContainerResizePolicy { optional string resourceName = 1; optional string restartPolicy = 2; }
message VolumeMount { optional string name = 1; optional bool readOnly = 2; optional string mountPath = 3; optional string subPath = 4; optional string mountPropagation = 5; optional string subPathExpr = 6; optional string recursiveReadOnly = 7; }
message VolumeDevice { optional string name = 1; optional string devicePath = 2; }
message Probe { optional ProbeHandler handler = 1; optional int32 initialDelaySeconds = 2; optional int32 timeoutSeconds = 3; optional int32 periodSeconds = 4; optional int32 successThreshold = 5; optional int32 failureThreshold = 6; optional int64 terminationGracePeriodSeconds = 7; }
message ProbeHandler { optional ExecAction exec = 1; optional HTTPGetAction httpGet = 2; optional TCPSocketAction tcpSocket = 3; optional GRPCAction grpc = 4; }
message Lifecycle { optional LifecycleHandler postStart = 1; optional LifecycleHandler preStop = 2; optional string stopSignal = 3; }
message LifecycleHandler { optional ExecAction exec = 1; optional HTTPGetAction httpGet = 2; optional TCPSocketAction tcpSocket = 3; optional SleepAction sleep = 4; }
message ExecAction { repeated string command = 1; }
message HTTPGetAction { optional string path = 1; optional IntOrString port = 2; optional string host = 3; optional string scheme = 4; repeated HTTPHeader httpHeaders = 5; }
message HTTPHeader { optional string name = 1; optional string value = 2; }
message TCPSocketAction { optional IntOrString port = 1; optional string host = 2; }
message GRPCAction { optional int32 port = 1; optional string service = 2; }
message SleepAction { optional int64 seconds = 1; }
message SecurityContext {
  optional Capabilities capabilities = 1; optional bool privileged = 2; optional SELinuxOptions seLinuxOptions = 3; optional int64 runAsUser = 4;
  optional bool runAsNonRoot = 5; optional bool readOnlyRootFilesystem = 6; optional bool allowPrivilegeEscalation = 7; optional int64 runAsGroup = 8;
  optional string procMount = 9; optional SeccompProfile seccompProfile = 11; optional AppArmorProfile appArmorProfile = 12;
}
message PodSecurityContext {
  optional SELinuxOptions seLinuxOptions = 1; optional int64 runAsUser = 2; optional bool runAsNonRoot = 3; repeated int64 supplementalGroups = 4;
  optional int64 fsGroup = 5; optional int64 runAsGroup = 6; repeated Sysctl sysctls = 7; optional string fsGroupChangePolicy = 9;
  optional SeccompProfile seccompProfile = 10; optional AppArmorProfile appArmorProfile = 11; optional string supplementalGroupsPolicy = 12;
}
message Capabilities { repeated string add = 1; repeated string drop = 2; }
message SELinuxOptions { optional string user = 1; optional string role = 2; optional string type = 3; optional string level = 4; }
message SeccompProfile { optional string type = 1; optional string localhostProfile = 2; }
message AppArmorProfile { optional string type = 1; optional string localhostProfile = 2; }
message Sysctl { optional string name = 1; optional string value = 2; }
message Toleration { optional string key = 1; optional string operator = 2; optional string value = 3; optional string effect = 4; optional int64 tolerationSeconds = 5; }
message HostAlias { optional string ip = 1; repeated string hostnames = 2; }
message PodDNSConfig { repeated string nameservers = 1; repeated string searches = 2; repeated PodDNSConfigOption options = 3; }
message PodDNSConfigOption { optional string name = 1; optional string value = 2; }
message PodReadinessGate { optional string conditionType = 1; }
message PodOS { optional string name = 1; }
message PodSchedulingGate { optional string name = 1; }
message TopologySpreadConstraint { optional int32 maxSkew = 1; optional string topologyKey = 2; optional string whenUnsatisfiable = 3; optional LabelSelector labelSelector = 4; optional int32 minDomains = 5; optional string nodeAffinityPolicy = 6; optional string nodeTaintsPolicy = 7; repeated string matchLabelKeys = 8; }
message Affinity { optional NodeAffinity nodeAffinity = 1; optional PodAffinity podAffinity = 2; optional PodAffinity podAntiAffinity = 3; }
message NodeAffinity { optional NodeSelector requiredDuringSchedulingIgnoredDuringExecution = 1; repeated PreferredSchedulingTerm preferredDuringSchedulingIgnoredDuringExecution = 2; }
message NodeSelector { repeated NodeSelectorTerm nodeSelectorTerms = 1; }
message NodeSelectorTerm { repeated NodeSelectorRequirement matchExpressions = 1; repeated NodeSelectorRequirement matchFields = 2; }
message NodeSelectorRequirement { optional string key = 1; optional string operator = 2; repeated string values = 3; }
message PreferredSchedulingTerm { optional int32 weight = 1; optional NodeSelectorTerm preference = 2; }
message PodAffinity { repeated PodAffinityTerm requiredDuringSchedulingIgnoredDuringExecution = 1; repeated WeightedPodAffinityTerm preferredDuringSchedulingIgnoredDuringExecution = 2; }
message PodAffinityTerm { optional LabelSelector labelSelector = 1; repeated string namespaces = 2; optional string topologyKey = 3; optional LabelSelector namespaceSelector = 4; repeated string matchLabelKeys = 5; repeated string mismatchLabelKeys = 6; }
message WeightedPodAffinityTerm { optional int32 weight = 1; optional PodAffinityTerm podAffinityTerm = 2; }
message Volume { optional string name = 1; optional VolumeSource volumeSource = 2; }
message VolumeSource {
  optional HostPathVolumeSource hostPath = 1; optional EmptyDirVolumeSource emptyDir = 2; optional SecretVolumeSource secret = 6;
  optional PersistentVolumeClaimVolumeSource persistentVolumeClaim = 10; optional DownwardAPIVolumeSource downwardAPI = 16;
  optional ConfigMapVolumeSource configMap = 19; optional ProjectedVolumeSource projected = 26;
}
message HostPathVolumeSource { optional string path = 1; optional string type = 2; }
message EmptyDirVolumeSource { optional string medium = 1; optional Quantity sizeLimit = 2; }
message SecretVolumeSource { optional string secretName = 1; repeated KeyToPath items = 2; optional int32 defaultMode = 3; optional bool optional = 4; }
message ConfigMapVolumeSource { optional LocalObjectReference localObjectReference = 1; repeated KeyToPath items = 2; optional int32 defaultMode = 3; optional bool optional = 4; }
message KeyToPath { optional string key = 1; optional string path = 2; optional int32 mode = 3; }
message PersistentVolumeClaimVolumeSource { optional string claimName = 1; optional bool readOnly = 2; }
message DownwardAPIVolumeSource { repeated DownwardAPIVolumeFile items = 1; optional int32 defaultMode = 2; }
message DownwardAPIVolumeFile { optional string path = 1; optional ObjectFieldSelector fieldRef = 2; optional ResourceFieldSelector resourceFieldRef = 3; optional int32 mode = 4; }
message ProjectedVolumeSource { repeated VolumeProjection sources = 1; optional int32 defaultMode = 2; }
message VolumeProjection { optional SecretProjection secret = 1; optional DownwardAPIProjection downwardAPI = 2; optional ConfigMapProjection configMap = 3; optional ServiceAccountTokenProjection serviceAccountToken = 4; }
message SecretProjection { optional LocalObjectReference localObjectReference = 1; repeated KeyToPath items = 2; optional bool optional = 4; }
message ConfigMapProjection { optional LocalObjectReference localObjectReference = 1; repeated KeyToPath items = 2; optional bool optional = 4; }
message DownwardAPIProjection { repeated DownwardAPIVolumeFile items = 1; }
message ServiceAccountTokenProjection { optional string audience = 1; optional int64 expirationSeconds = 2; optional string path = 3; }

message Deployment { optional ObjectMeta metadata = 1; optional DeploymentSpec spec = 2; optional DeploymentStatus status = 3; }
message DeploymentSpec { optional int32 replicas = 1; optional LabelSelector selector = 2; optional PodTemplateSpec template = 3; optional DeploymentStrategy strategy = 4; optional int32 minReadySeconds = 5; optional int32 revisionHistoryLimit = 6; optional bool paused = 7; optional int32 progressDeadlineSeconds = 9; }
message DeploymentStrategy { optional string type = 1; optional RollingUpdateDeployment rollingUpdate = 2; }
message RollingUpdateDeployment { optional IntOrString maxUnavailable = 1; optional IntOrString maxSurge = 2; }
message DeploymentStatus { optional int64 observedGeneration = 1; optional int32 replicas = 2; optional int32 updatedReplicas = 3; optional int32 availableReplicas = 4; optional int32 unavailableReplicas = 5; optional int32 readyReplicas = 7; optional int32 collisionCount = 8; }

message HorizontalPodAutoscaler { optional ObjectMeta metadata = 1; optional HorizontalPodAutoscalerSpec spec = 2; optional HorizontalPodAutoscalerStatus status = 3; }
message HorizontalPodAutoscalerSpec { optional CrossVersionObjectReference scaleTargetRef = 1; optional int32 minReplicas = 2; optional int32 maxReplicas = 3; optional int32 targetCPUUtilizationPercentage = 4; }
message CrossVersionObjectReference { optional string kind = 1; optional string name = 2; optional string apiVersion = 3; }
message HorizontalPodAutoscalerStatus { optional int64 observedGeneration = 1; optional Time lastScaleTime = 2; optional int32 currentReplicas = 3; optional int32 desiredReplicas = 4; optional int32 currentCPUUtilizationPercentage = 5; }
message Job { optional ObjectMeta metadata = 1; optional JobSpec spec = 2; }
message JobSpec {
  optional int32 parallelism = 1; optional int32 completions = 2; optional int64 activeDeadlineSeconds = 3; optional LabelSelector selector = 4;
  optional bool manualSelector = 5; optional PodTemplateSpec template = 6; optional int32 backoffLimit = 7; optional int32 ttlSecondsAfterFinished = 8;
  optional string completionMode = 9; optional bool suspend = 10; optional int32 backoffLimitPerIndex = 12; optional int32 maxFailedIndexes = 13;
  optional string podReplacementPolicy = 14; optional string managedBy = 15;
}
message CronJob { optional ObjectMeta metadata = 1; optional CronJobSpec spec = 2; }
message CronJobSpec { optional string schedule = 1; optional int64 startingDeadlineSeconds = 2; optional string concurrencyPolicy = 3; optional bool suspend = 4; optional JobTemplateSpec jobTemplate = 5; optional int32 successfulJobsHistoryLimit = 6; optional int32 failedJobsHistoryLimit = 7; optional string timeZone = 8; }
message JobTemplateSpec { optional ObjectMeta metadata = 1; optional JobSpec spec = 2; }

message Role { optional ObjectMeta metadata = 1; repeated PolicyRule rules = 2; }
message ClusterRole { optional ObjectMeta metadata = 1; repeated PolicyRule rules = 2; optional AggregationRule aggregationRule = 3; }
message RoleBinding { optional ObjectMeta metadata = 1; repeated Subject subjects = 2; optional RoleRef roleRef = 3; }
message ClusterRoleBinding { optional ObjectMeta metadata = 1; repeated Subject subjects = 2; optional RoleRef roleRef = 3; }
message PolicyRule { repeated string verbs = 1; repeated string apiGroups = 2; repeated string resources = 3; repeated string resourceNames = 4; repeated string nonResourceURLs = 5; }
message Subject { optional string kind = 1; optional string apiGroup = 2; optional string name = 3; optional string namespace = 4; }
message RoleRef { optional string apiGroup = 1; optional string kind = 2; optional string name = 3; }
message AggregationRule { repeated LabelSelector clusterRoleSelectors = 1; }

message PodDisruptionBudget { optional ObjectMeta metadata = 1; optional PodDisruptionBudgetSpec spec = 2; }
message PodDisruptionBudgetSpec { optional IntOrString minAvailable = 1; optional LabelSelector selector = 2; optional IntOrString maxUnavailable = 3; optional string unhealthyPodEvictionPolicy = 4; }
message Eviction { optional ObjectMeta metadata = 1; optional DeleteOptions deleteOptions = 2; }

message Ingress { optional ObjectMeta metadata = 1; optional IngressSpec spec = 2; }
message IngressSpec { optional IngressBackend defaultBackend = 1; repeated IngressTLS tls = 2; repeated IngressRule rules = 3; optional string ingressClassName = 4; }
message IngressTLS { repeated string hosts = 1; optional string secretName = 2; }
message IngressRule { optional string host = 1; optional IngressRuleValue ingressRuleValue = 2; }
message IngressRuleValue { optional HTTPIngressRuleValue http = 1; }
message HTTPIngressRuleValue { repeated HTTPIngressPath paths = 1; }
message HTTPIngressPath { optional string path = 1; optional IngressBackend backend = 2; optional string pathType = 3; }
message IngressBackend { optional TypedLocalObjectReference resource = 3; optional IngressServiceBackend service = 4; }
message IngressServiceBackend { optional string name = 1; optional ServiceBackendPort port = 2; }
message ServiceBackendPort { optional string name = 1; optional int32 number = 2; }
message TypedLocalObjectReference { optional string apiGroup = 1; optional string kind = 2; optional string name = 3; }

message Service { optional ObjectMeta metadata = 1; optional ServiceSpec spec = 2; }
message ServiceSpec {
  repeated ServicePort ports = 1; map<string, string> selector = 2; optional string clusterIP = 3; optional string type = 4; repeated string externalIPs = 5;
  optional string sessionAffinity = 7; optional string loadBalancerIP = 8; repeated string loadBalancerSourceRanges = 9; optional string externalName = 10;
  optional string externalTrafficPolicy = 11; optional int32 healthCheckNodePort = 12; optional bool publishNotReadyAddresses = 13;
  optional SessionAffinityConfig sessionAffinityConfig = 14; optional string ipFamilyPolicy = 17; repeated string clusterIPs = 18; repeated string ipFamilies = 19;
  optional bool allocateLoadBalancerNodePorts = 20; optional string loadBalancerClass = 21; optional string internalTrafficPolicy = 22; optional string trafficDistribution = 23;
}
message ServicePort { optional string name = 1; optional string protocol = 2; optional int32 port = 3; optional IntOrString targetPort = 4; optional int32 nodePort = 5; optional string appProtocol = 6; }
message SessionAffinityConfig { optional ClientIPConfig clientIP = 1; }
message ClientIPConfig { optional int32 timeoutSeconds = 1; }
message ServiceAccount { optional ObjectMeta metadata = 1; repeated ObjectReference secrets = 2; repeated LocalObjectReference imagePullSecrets = 3; optional bool automountServiceAccountToken = 4; }
message ObjectReference { optional string kind = 1; optional string namespace = 2; optional string name = 3; optional string uid = 4; optional string apiVersion = 5; optional string resourceVersion = 6; optional string fieldPath = 7; }
message ResourceQuota { optional ObjectMeta metadata = 1; optional ResourceQuotaSpec spec = 2; }
message ResourceQuotaSpec { map<string, Quantity> hard = 1; repeated string scopes = 2; optional ScopeSelector scopeSelector = 3; }
message ScopeSelector { repeated ScopedResourceSelectorRequirement matchExpressions = 1; }
message ScopedResourceSelectorRequirement { optional string scopeName = 1; optional string operator = 2; repeated string values = 3; }
message PriorityClass { optional ObjectMeta metadata = 1; optional int32 value = 2; optional bool globalDefault = 3; optional string description = 4; optional string preemptionPolicy = 5; }
message TokenRequest { optional ObjectMeta metadata = 1; optional TokenRequestSpec spec = 2; }
message TokenRequestSpec { repeated string audiences = 1; optional BoundObjectReference boundObjectRef = 3; optional int64 expirationSeconds = 4; }
message BoundObjectReference { optional string kind = 1; optional string apiVersion = 2; optional string name = 3; optional string uid = 4; }
message Binding { optional ObjectMeta metadata = 1; optional ObjectReference target = 2; }
message Scale { optional ObjectMeta metadata = 1; optional ScaleSpec spec = 2; }
message CertificateSigningRequest { optional ObjectMeta metadata = 1; optional CertificateSigningRequestSpec spec = 2; optional CertificateSigningRequestStatus status = 3; }
message CertificateSigningRequestSpec {
  optional bytes request = 1; optional string username = 2; optional string uid = 3; repeated string groups = 4; repeated string usages = 5;
  optional string signerName = 7; optional int32 expirationSeconds = 8;
}
message CertificateSigningRequestStatus { repeated CertificateSigningRequestCondition conditions = 1; optional bytes certificate = 2; }
message CertificateSigningRequestCondition {
  optional string type = 1; optional string reason = 2; optional string message = 3; optional Time lastUpdateTime = 4; optional Time lastTransitionTime = 5; optional string status = 6;
}
message ScaleSpec { optional int32 replicas = 1; }
`;

/** Embedded Go structs: their fields appear directly in the parent's JSON. */
export const INLINE_FIELDS = new Set(['localObjectReference', 'handler', 'volumeSource', 'ingressRuleValue']);

/**
 * Go pointer fields (Message.field): kept in JSON even when zero (replicas: 0, optional: false). Every other scalar
 * field is omitted when it holds its zero value, as Go's omitempty does.
 */
export const POINTER_FIELDS = new Set([
  'DeploymentSpec.replicas', 'DeploymentSpec.revisionHistoryLimit', 'DeploymentSpec.progressDeadlineSeconds',
  'PodSpec.terminationGracePeriodSeconds', 'PodSpec.activeDeadlineSeconds', 'PodSpec.automountServiceAccountToken',
  'PodSpec.priority', 'PodSpec.shareProcessNamespace', 'PodSpec.enableServiceLinks', 'PodSpec.setHostnameAsFQDN',
  'PodSpec.hostUsers', 'PodSpec.preemptionPolicy', 'PodSpec.runtimeClassName',
  'SecurityContext.privileged', 'SecurityContext.runAsUser', 'SecurityContext.runAsNonRoot', 'SecurityContext.runAsGroup',
  'SecurityContext.readOnlyRootFilesystem', 'SecurityContext.allowPrivilegeEscalation', 'SecurityContext.procMount',
  'PodSecurityContext.runAsUser', 'PodSecurityContext.runAsNonRoot', 'PodSecurityContext.runAsGroup', 'PodSecurityContext.fsGroup',
  'Toleration.tolerationSeconds', 'ConfigMap.immutable', 'Secret.immutable',
  'ConfigMapKeySelector.optional', 'SecretKeySelector.optional', 'ConfigMapEnvSource.optional', 'SecretEnvSource.optional',
  'SecretVolumeSource.defaultMode', 'SecretVolumeSource.optional', 'ConfigMapVolumeSource.defaultMode', 'ConfigMapVolumeSource.optional',
  'KeyToPath.mode', 'Probe.terminationGracePeriodSeconds', 'GRPCAction.service', 'OwnerReference.controller',
  'OwnerReference.blockOwnerDeletion', 'ObjectMeta.deletionGracePeriodSeconds', 'DeleteOptions.gracePeriodSeconds',
  'DeleteOptions.orphanDependents', 'DeleteOptions.propagationPolicy', 'HorizontalPodAutoscalerSpec.minReplicas',
  'HorizontalPodAutoscalerSpec.targetCPUUtilizationPercentage', 'HorizontalPodAutoscalerStatus.observedGeneration',
  'HorizontalPodAutoscalerStatus.currentCPUUtilizationPercentage', 'Preconditions.uid', 'Preconditions.resourceVersion',
  'Container.restartPolicy', 'HostPathVolumeSource.type', 'DownwardAPIVolumeSource.defaultMode', 'DownwardAPIVolumeFile.mode',
  'ProjectedVolumeSource.defaultMode', 'ServiceAccountTokenProjection.expirationSeconds', 'TopologySpreadConstraint.minDomains',
  'JobSpec.parallelism', 'JobSpec.completions', 'JobSpec.activeDeadlineSeconds', 'JobSpec.backoffLimit', 'JobSpec.manualSelector',
  'JobSpec.ttlSecondsAfterFinished', 'JobSpec.suspend', 'JobSpec.completionMode', 'JobSpec.backoffLimitPerIndex', 'JobSpec.maxFailedIndexes',
  'JobSpec.podReplacementPolicy', 'JobSpec.managedBy', 'CronJobSpec.startingDeadlineSeconds', 'CronJobSpec.suspend', 'CronJobSpec.timeZone',
  'CronJobSpec.successfulJobsHistoryLimit', 'CronJobSpec.failedJobsHistoryLimit', 'HTTPIngressPath.pathType', 'IngressSpec.ingressClassName',
  'PodDisruptionBudgetSpec.unhealthyPodEvictionPolicy', 'ServiceSpec.allocateLoadBalancerNodePorts', 'ServiceSpec.ipFamilyPolicy',
  'ServiceSpec.loadBalancerClass', 'ServiceSpec.internalTrafficPolicy', 'ServiceSpec.trafficDistribution', 'ServicePort.appProtocol',
  'ServiceAccount.automountServiceAccountToken', 'ClientIPConfig.timeoutSeconds', 'PriorityClass.preemptionPolicy',
  'TokenRequestSpec.expirationSeconds', 'PriorityClass.value',
  'CertificateSigningRequestSpec.expirationSeconds',
  'PodSpec.os', 'VolumeMount.mountPropagation', 'VolumeMount.recursiveReadOnly', 'EmptyDirVolumeSource.sizeLimit',
]);

/** Top-level kinds we decode, by kind name. */
export const KINDS = [
  'Namespace', 'ConfigMap', 'Secret', 'Pod', 'Deployment', 'HorizontalPodAutoscaler', 'DeleteOptions', 'Job', 'CronJob', 'Role', 'ClusterRole',
  'RoleBinding', 'ClusterRoleBinding', 'PodDisruptionBudget', 'Eviction', 'Ingress', 'Service', 'ServiceAccount', 'ResourceQuota', 'PriorityClass',
  'TokenRequest', 'Binding', 'Scale', 'CertificateSigningRequest',
];
