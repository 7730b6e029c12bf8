// Test helper for sqlite-deferred.test.ts: one ordinary create, then deferred updates of the same key forever (like
// a Lease renewal), printing every acknowledged revision, until the test kills it with SIGKILL.
import { SqliteStore } from '../sqlite.ts';

const path = process.argv[2]!;
const store = new SqliteStore({ path, compactIntervalMs: 0, deferredCommitMs: 3_600_000 });
const enc = new TextEncoder();
let kv = await store.create('/hb/node', enc.encode('renew-0'));
process.stdout.write(`create ${kv.modRevision}\n`);
for (let i = 1; i < 100_000; i++) {
  kv = await store.update('/hb/node', enc.encode(`renew-${i}`), kv.modRevision, { deferred: true });
  process.stdout.write(`deferred ${kv.modRevision} ${store.stats().deferredPending}\n`);
  if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
}
