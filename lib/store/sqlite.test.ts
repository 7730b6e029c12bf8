import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SqliteStore } from './sqlite.ts';
import { storeConformance } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsk-sqlite-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

t.test('sqlite store conformance', async (t) => {
  storeConformance(t, async ({ clock, watchBuffer }) =>
    new SqliteStore({ path: join(dir, `c${++n}.db`), clock, watchBuffer, compactIntervalMs: 0 }));
});
