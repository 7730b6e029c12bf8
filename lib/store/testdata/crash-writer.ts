// Test helper for sqlite.test.ts: writes keys forever in concurrent batches and prints every acknowledged write,
// until the test kills it with SIGKILL.
import { SqliteStore } from '../sqlite.ts';

const path = process.argv[2]!;
const store = new SqliteStore({ path, compactIntervalMs: 0 });
const enc = new TextEncoder();
let i = 0;
for (let round = 0; round < 100_000; round++) {
  const batch: Promise<void>[] = [];
  for (let j = 0; j < 8; j++) {
    const key = `/crash/${String(i++).padStart(7, '0')}`;
    batch.push(store.create(key, enc.encode(`value-${key}`)).then((kv) => {
      process.stdout.write(`${key} ${kv.modRevision}\n`);
    }));
  }
  await Promise.all(batch);
}
