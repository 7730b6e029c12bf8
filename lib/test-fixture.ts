// Test fixture for unit tests: a temp dir removed on teardown (test/harness.ts builds the end-to-end one on it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A new directory under the system temp dir, removed with its contents on teardown. */
export function tempDir(t: Teardown, prefix = 'tsk-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
