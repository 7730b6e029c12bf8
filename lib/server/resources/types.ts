// The per-resource strategy: everything the generic registry and the verb handlers need to know about one
// resource (names for discovery, defaults, validation, spec/status isolation, deletion rules, Table columns, field
// selectors, subresources). Verb handlers never switch on a kind; they ask the strategy.
import type { Client, DeleteOptions, KubeObject } from '../../client/types.ts';
import type { UserInfo } from '../auth/types.ts';

/** One reason a request is invalid; becomes an entry of Status.details.causes (422). */
export interface StatusCause {
  /** Dotted field path, e.g. "metadata.name" or "spec.containers[0].image". */
  field?: string;
  /** FieldValueInvalid | FieldValueRequired | FieldValueNotSupported | FieldValueDuplicate | FieldValueForbidden | FieldValueTooLong */
  reason: string;
  message: string;
}

/** A column of a meta.k8s.io/v1 Table. priority 1 shows only with `-o wide`. */
export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

/** What hooks may use besides the object: time, cluster settings and an in-process client for lookups. */
export interface StrategyContext {
  /** Milliseconds since the epoch (injected clock). */
  now(): number;
  config: ClusterSettings;
  /** In-process client over the same registry (no HTTP). Use for lookups such as PodDisruptionBudgets. */
  client: Client;
  /** True when the request asked for dryRun=All: hooks must not allocate or touch other objects for real. */
  dryRun?: boolean;
  /** Who is writing, when the write came through the API (CertificateSigningRequests record their requester). */
  user?: UserInfo;
}

export interface ClusterSettings {
  /** IPv4 CIDR for ClusterIPs, e.g. 10.43.0.0/16. */
  serviceCidr: string;
  /** Inclusive NodePort range. */
  nodePortRange: [number, number];
  clusterDomain: string;
}

/** A subresource such as status, scale, binding, eviction, log, exec. */
export interface SubresourceSpec {
  name: string;
  /** Response kind for discovery (default: the parent kind). scale: Scale (autoscaling/v1). */
  kind?: string;
  group?: string;
  version?: string;
  verbs: string[];
  /** Custom POST handler (e.g. pods/binding, pods/eviction, serviceaccounts/token). Returns the response body. */
  create?(req: SubresourceRequest): Promise<KubeObject>;
  /**
   * PUT/PATCH of the subresource (e.g. pods/ephemeralcontainers): the object to store, built from the stored one and
   * the request's, with what is wrong with the request (the strategy's own validate is not run).
   */
  update?(obj: KubeObject, old: KubeObject): { obj: KubeObject; causes: StatusCause[] };
}

export interface SubresourceRequest {
  name: string;
  namespace?: string;
  body: KubeObject;
  ctx: StrategyContext;
  /** The parent object (404 when absent). */
  get(): Promise<KubeObject>;
  /**
   * Read-modify-write of the parent bypassing the strategy's update rules (retries on conflict). The mutator may
   * throw an ApiError to refuse. Returns the stored object.
   */
  update(mutate: (obj: KubeObject) => void | Promise<void>): Promise<KubeObject>;
  /** Delete the parent as a normal delete request would. */
  delete(opts: DeleteOptions): Promise<void>;
}

/** Where replicas live for the generic scale subresource (JSON paths as dotted strings, like CRD scale). */
export interface ScaleSpec {
  specReplicasPath: string; // e.g. 'spec.replicas'
  statusReplicasPath: string; // e.g. 'status.replicas'
  /** Path of the label selector (LabelSelector object or string, or a map for replicationcontrollers). */
  labelSelectorPath?: string;
}

export interface ResourceStrategy {
  /** '' for the core group. */
  group: string;
  /** Served versions; the first is the preferred and storage version. */
  versions: string[];
  kind: string;
  /** Lowercase plural, the URL segment: 'pods'. */
  plural: string;
  singular: string;
  shortNames?: string[];
  categories?: string[];
  namespaced: boolean;
  /** Verbs listed in discovery (default: the full set). */
  verbs?: string[];
  /** Subresources. 'status' enables spec/status isolation; 'scale' needs `scale`. */
  subresources?: SubresourceSpec[];
  scale?: ScaleSpec;

  /** Fill defaults in place (called on create and update, before validation). */
  defaults?(obj: KubeObject, ctx: StrategyContext): void;
  /** Problems with the object (old is set on update). An empty array means valid. */
  validate?(obj: KubeObject, old: KubeObject | undefined, ctx: StrategyContext): StatusCause[];
  /**
   * Create-time preparation (after defaults and validation, before the write): reset status, allocate
   * ClusterIPs... May be async. Throwing an ApiError aborts the create.
   */
  prepareForCreate?(obj: KubeObject, ctx: StrategyContext): void | Promise<void>;
  /**
   * Update-time preparation. The registry already copied old.status into obj for main-resource updates (and
   * everything but status for status updates) when the strategy has a status subresource.
   */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): void | Promise<void>;
  /** After the object is gone from the store (release ClusterIPs and NodePorts...). Errors are logged only. */
  afterDelete?(obj: KubeObject, ctx: StrategyContext): void | Promise<void>;

  /**
   * Grace period for a delete request. 0 (default) removes the object at once (unless finalizers hold it).
   * Pods bound to a node return opts.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds.
   */
  deleteGracePeriod?(obj: KubeObject, opts: DeleteOptions): number;
  /** Extra finalization holding the object besides metadata.finalizers (namespaces: spec.finalizers). */
  finalizersPending?(obj: KubeObject): boolean;
  /** Mutate an object that delete keeps (namespaces: status.phase Terminating). */
  prepareForDelete?(obj: KubeObject, ctx: StrategyContext): void;

  /** Time to live in seconds (events): the store drops the object through a lease. */
  ttlSeconds?(obj: KubeObject): number | undefined;
  /** True for an update a crash may lose harmlessly (Lease renewals): the store commits it lazily (WriteOptions.deferred). */
  deferrable?(obj: KubeObject, old: KubeObject): boolean;

  /** Table columns, NAME first (see table.ts helpers). Default: NAME, AGE. */
  columns?: ColumnDefinition[];
  /** One row of cells matching `columns`. now is ms since the epoch. */
  cells?(obj: KubeObject, now: number): unknown[];

  /**
   * Field-selectable values beyond metadata.name and metadata.namespace, e.g. { 'spec.nodeName': 'n1',
   * 'status.phase': 'Running' }. A field selector on a label not returned here is refused (400).
   */
  fieldLabels?(obj: KubeObject): Record<string, string>;

  /**
   * Convert between served versions, both ways: stored (first version) → requested on reads, and a request body in
   * another served version → the storage version on writes. Default: rewrite apiVersion only.
   */
  convert?(obj: KubeObject, toVersion: string): KubeObject;
  /**
   * Served from another resource's storage (events.k8s.io/v1 events are core/v1 events): keys live under that
   * group's prefix, objects are stored at its apiVersion and `convert` runs on every read and write.
   */
  storedAs?: { group: string; apiVersion: string };
  /** A custom resource (CRD): strategic merge patch is refused with 415, apply uses JSON merge. */
  custom?: boolean;
  /**
   * false: no metadata.generation, as upstream for kinds whose strategy never sets it (ConfigMap, Secret, Pod,
   * Service, Node, RBAC...). Default: generation 1 on create, bumped when anything but metadata and status changes.
   */
  generation?: boolean;
}

/** apiVersion string for a group/version: 'v1' or 'apps/v1'. */
export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
