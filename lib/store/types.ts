// The store seam: an etcd-v3-shaped revisioned key-value store. Implementations: memory, sqlite.
export interface KeyValue {
  key: string;
  value: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: number;
}

export interface ListOptions {
  /** Read at this revision (0 or absent: current). */
  revision?: number;
  limit?: number;
  /** First key to return (inclusive); continue tokens resume at lastKey + "\x00". */
  startKey?: string;
}

export interface ListResult {
  items: KeyValue[];
  revision: number;
  /** Keys in [startKey, end of prefix) at that revision. */
  count: number;
  more: boolean;
}

export interface GetResult {
  kv?: KeyValue;
  revision: number;
}

export type WatchEventType = 'put' | 'delete';

export interface WatchEvent {
  type: WatchEventType;
  kv: KeyValue;
  prevKv?: KeyValue;
}

export type WatchMessage =
  | { events: WatchEvent[]; revision: number }
  | { progress: true; revision: number };

export interface Watch extends AsyncIterable<WatchMessage> {
  close(reason?: string): void;
  /** Why the watch ended, if the store ended it (slow consumer, compaction, shutdown). */
  readonly closedReason: string | undefined;
}

export interface WriteOptions {
  lease?: number;
  /**
   * update only: the write may be committed to disk lazily. It gets its revision, is readable and reaches watchers at
   * once like any write, but a crash may lose it (reads then show the previous value; revisions are never reused).
   * For heartbeats whose loss only makes a timestamp older (Lease renewals). Stores without the notion ignore it.
   */
  deferred?: boolean;
}

export interface Store {
  get(key: string, opts?: { revision?: number }): Promise<GetResult>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Number of live keys under prefix. */
  count(prefix: string): Promise<{ count: number; revision: number }>;
  /** Fails with AlreadyExistsError when the key is live. */
  create(key: string, value: Uint8Array, opts?: WriteOptions): Promise<KeyValue>;
  /** expectedModRevision 0 means unconditional. Fails with ConflictError carrying the current value, NotFoundError when absent. */
  update(key: string, value: Uint8Array, expectedModRevision: number, opts?: WriteOptions): Promise<KeyValue>;
  /** expectedModRevision 0 means unconditional. Returns the deleted value with the tombstone's modRevision. */
  delete(key: string, expectedModRevision: number): Promise<KeyValue>;
  /** Events with revision > fromRevision under prefix. fromRevision 0 means "from now". */
  watch(prefix: string, fromRevision: number, opts?: { progressNotify?: boolean }): Watch;
  currentRevision(): number;
  compactRevision(): number;
  compact(revision: number): Promise<void>;
  grantLease(ttlSeconds: number): Promise<number>;
  revokeLease(id: number): Promise<void>;
  /** Sends a progress notification carrying the current revision to every watcher (etcd RequestWatchProgress). */
  progress?(): void;
  close(): Promise<void>;
}

export class StoreError extends Error {
  constructor(message?: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class AlreadyExistsError extends StoreError {
  readonly key: string;
  constructor(key: string) {
    super(`key already exists: ${key}`);
    this.key = key;
  }
}

export class NotFoundError extends StoreError {
  readonly key: string;
  constructor(key: string) {
    super(`key not found: ${key}`);
    this.key = key;
  }
}

export class ConflictError extends StoreError {
  readonly key: string;
  readonly current: KeyValue | undefined;
  constructor(key: string, current: KeyValue | undefined) {
    super(`revision mismatch for ${key}`);
    this.key = key;
    this.current = current;
  }
}

export class LeaseNotFoundError extends StoreError {
  readonly lease: number;
  constructor(lease: number) {
    super(`lease ${lease} not found`);
    this.lease = lease;
  }
}

export class FutureRevisionError extends StoreError {
  readonly revision: number;
  readonly current: number;
  constructor(revision: number, current: number) {
    super(`revision ${revision} is in the future (current ${current})`);
    this.revision = revision;
    this.current = current;
  }
}

export class CompactedError extends StoreError {
  readonly compactRevision: number;
  constructor(compactRevision: number) {
    super(`required revision has been compacted (compact revision ${compactRevision})`);
    this.compactRevision = compactRevision;
  }
}

/** The end of a prefix range, as etcd's clientv3.GetPrefixRangeEnd. */
export function prefixEnd(prefix: string): string {
  return prefix + '\uffff';
}
