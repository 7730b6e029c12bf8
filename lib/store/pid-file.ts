// `<db>.pid` marks a database held open by a live process, so that offline tools (snapshot restore) can refuse.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

export function pidFilePath(dbPath: string): string {
  return `${dbPath}.pid`;
}

export function writePidFile(dbPath: string): void {
  writeFileSync(pidFilePath(dbPath), `${process.pid}\n`);
}

export function releasePidFile(dbPath: string): void {
  try {
    if (readFileSync(pidFilePath(dbPath), 'utf8').trim() === String(process.pid)) rmSync(pidFilePath(dbPath), { force: true });
  } catch {
    // already gone
  }
}

/** The PID of a live process holding the database open, if any (stale files from killed processes are ignored). */
export function holderPid(dbPath: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFilePath(dbPath), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}
