// WATCH: store events → ADDED/MODIFIED/DELETED with selector transitions, initial state for resourceVersion ""/"0",
// bookmarks, timeoutSeconds, and 410 as an ERROR event when the start revision was compacted.
import type { ClientWatch, ClientWatchEvent, KubeObject } from '../../client/types.ts';
import { CompactedError, type KeyValue, type Watch, type WatchEvent as StoreEvent, type WatchMessage } from '../../store/types.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { apiVersionOf } from '../resources/types.ts';
import { badRequest, expired } from './errors.ts';
import { list, matcher, type ListOptions, type Matcher } from './list.ts';
import { decodeObject, listPrefix, toVersion } from './object.ts';
import type { Registry } from './registry.ts';

export interface WatchOptions extends ListOptions {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
  /** Events may be shared with other watchers (read-only objects): see translateShared. */
  shared?: boolean;
}

export type RegistryWatch = ClientWatch & { readonly done: Promise<void> };

function translate(s: ResourceStrategy, match: Matcher, e: StoreEvent, version: string | undefined): ClientWatchEvent | undefined {
  const filtering = match.labels.length > 0 || match.fields.length > 0;
  if (e.type === 'delete') {
    const obj = decodeObject(e.prevKv ?? e.kv, e.kv.modRevision);
    return match(obj) ? { type: 'DELETED', object: toVersion(s, obj, version) } : undefined;
  }
  const obj = decodeObject(e.kv);
  const now = match(obj);
  const had = e.prevKv !== undefined && (!filtering || match(decodeObject(e.prevKv)));
  if (now) return { type: had ? 'MODIFIED' : 'ADDED', object: toVersion(s, obj, version) };
  if (had) return { type: 'DELETED', object: toVersion(s, obj, version) };
  return undefined;
}

/**
 * Shared translation for watchers that only read and serialize the objects (the HTTP watch handler): each store
 * event is decoded once for all of its watchers, and the same ClientWatchEvent (per type and version) is handed to
 * each of them, so that their serialized form can be cached too. The objects must be treated as read-only.
 */
interface SharedEntry { obj?: KubeObject; prev?: KubeObject; events: Map<string, ClientWatchEvent> }
// Keyed by the event's KeyValue: store wrappers (encryption at rest) copy events per watcher but pass the KeyValue
// through unchanged when they do not transform it.
const sharedEntries = new WeakMap<KeyValue, SharedEntry>();

function translateShared(s: ResourceStrategy, match: Matcher, e: StoreEvent, version: string | undefined): ClientWatchEvent | undefined {
  let entry = sharedEntries.get(e.kv);
  if (!entry) sharedEntries.set(e.kv, (entry = { events: new Map() }));
  const cur = (entry.obj ??= e.type === 'delete' ? decodeObject(e.prevKv ?? e.kv, e.kv.modRevision) : decodeObject(e.kv));
  let type: ClientWatchEvent['type'] | undefined;
  if (e.type === 'delete') type = match(cur) ? 'DELETED' : undefined;
  else {
    const filtering = match.labels.length > 0 || match.fields.length > 0;
    const now = match(cur);
    const had = e.prevKv !== undefined && (!filtering || match((entry.prev ??= decodeObject(e.prevKv))));
    type = now ? (had ? 'MODIFIED' : 'ADDED') : had ? 'DELETED' : undefined;
  }
  if (!type) return undefined;
  const k = `${type}/${s.group}/${version ?? ''}`;
  let ev = entry.events.get(k);
  if (!ev) {
    // toVersion may rename apiVersion in place: give it a copy unless the stored version is served
    const object = (!version || version === s.versions[0]) && !s.storedAs ? cur : toVersion(s, structuredClone(cur), version);
    entry.events.set(k, (ev = { type, object } as ClientWatchEvent));
  }
  return ev;
}

function statusEvent(e: { status: KubeObject }): ClientWatchEvent {
  return { type: 'ERROR', object: e.status };
}

export async function watch(r: Registry, s: ResourceStrategy, o: WatchOptions = {}): Promise<RegistryWatch> {
  const match = matcher(s, o.labelSelector, o.fieldSelector);
  const rv = o.resourceVersion ?? '';
  if (rv && !/^\d+$/.test(rv)) throw badRequest(`resourceVersion: Invalid value: ${JSON.stringify(rv)}: must be a non-negative integer`);
  const version = o.version;
  const initial: ClientWatchEvent[] = [];
  let from = Number(rv || 0);
  const bookmark = (rev: number, extra?: Record<string, string>): ClientWatchEvent => ({
    type: 'BOOKMARK',
    object: { apiVersion: apiVersionOf(s.group, version ?? s.versions[0]!), kind: s.kind, metadata: { resourceVersion: String(rev), ...(extra ? { annotations: extra } : {}) } },
  });
  if (!rv || rv === '0' || o.sendInitialEvents) {
    const l = await list(r, s, { namespace: o.namespace, labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, version });
    for (const item of l.items) initial.push({ type: 'ADDED', object: item });
    from = Number(l.metadata.resourceVersion);
    if (o.sendInitialEvents && o.allowWatchBookmarks) initial.push(bookmark(from, { 'k8s.io/initial-events-end': 'true' }));
  }
  let sw: Watch | undefined;
  let startError: ClientWatchEvent | undefined;
  try {
    sw = r.store.watch(listPrefix(s, o.namespace), from, { progressNotify: !!o.allowWatchBookmarks });
  } catch (e) {
    if (!(e instanceof CompactedError)) throw e;
    startError = statusEvent(expired(`too old resource version: ${from} (${e.compactRevision})`));
  }
  let closed = false;
  let wake: (() => void) | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((res) => (resolveDone = res));
  const timers: { cancel(): void }[] = [];
  const close = () => {
    if (closed) return;
    closed = true;
    sw?.close('watch closed');
    for (const t of timers) t.cancel();
    wake?.();
    resolveDone();
  };
  if (o.timeoutSeconds && o.timeoutSeconds > 0) timers.push(r.clock.setTimeout(close, o.timeoutSeconds * 1000));

  async function* run(): AsyncGenerator<ClientWatchEvent> {
    try {
      for (const e of initial) { if (closed) return; yield e; }
      if (startError) { yield startError; return; }
      const it = sw![Symbol.asyncIterator]();
      let lastRev = from;
      let pending: Promise<IteratorResult<WatchMessage>> | undefined;
      let tick = false;
      const arm = () => {
        if (!o.allowWatchBookmarks || closed) return;
        timers.push(r.clock.setTimeout(() => { tick = true; r.requestProgress(); wake?.(); }, r.bookmarkIntervalMs));
      };
      arm();
      while (!closed) {
        pending ??= it.next();
        const woke = new Promise<'wake'>((res) => (wake = () => res('wake')));
        const res = await Promise.race([pending, woke]);
        wake = undefined;
        if (closed) return;
        if (res === 'wake') {
          if (tick) { tick = false; yield bookmark(lastRev); arm(); }
          continue;
        }
        pending = undefined;
        if (res.done) {
          const why = sw!.closedReason ?? '';
          if (/compact/i.test(why)) yield statusEvent(expired(`too old resource version: ${lastRev} (${r.store.compactRevision()})`));
          return;
        }
        const msg = res.value;
        if ('progress' in msg) {
          if (msg.revision > lastRev) lastRev = msg.revision;
          continue;
        }
        const tr = o.shared ? translateShared : translate;
        for (const e of msg.events) {
          const ev = tr(s, match, e, version);
          if (ev) yield ev;
        }
        lastRev = msg.revision;
      }
    } finally {
      close();
    }
  }
  const gen = run();
  return {
    [Symbol.asyncIterator]: () => gen,
    close,
    done,
  };
}
