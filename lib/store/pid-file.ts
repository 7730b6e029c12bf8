// `<db>.pid` marks a database held open by a live process, so that a second server and offline tools (snapshot
// restore) can refuse. The file records the PID, the boot id and the process start time, so a PID reused after a
// crash or a reboot is not mistaken for the holder.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

export function pidFilePath(dbPath: string): string {
  return `${dbPath}.pid`;
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or '' when unknown. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

export function writePidFile(dbPath: string): void {
  writeFileSync(pidFilePath(dbPath), `${process.pid} ${bootId()} ${startTime(process.pid)}\n`);
}

export function releasePidFile(dbPath: string): void {
  try {
    if (readFileSync(pidFilePath(dbPath), 'utf8').split(' ')[0]!.trim() === String(process.pid)) rmSync(pidFilePath(dbPath), { force: true });
  } catch {
    // already gone
  }
}

/** The PID of a live process holding the database open, if any (stale files from killed processes are ignored). */
export function holderPid(dbPath: string): number | undefined {
  let fields: string[];
  try {
    fields = readFileSync(pidFilePath(dbPath), 'utf8').trim().split(/\s+/);
  } catch {
    return undefined;
  }
  const pid = Number(fields[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  const [, boot, start] = fields;
  if (boot && bootId() && boot !== bootId()) return undefined; // written before a reboot
  if (start && startTime(pid) && start !== startTime(pid)) return undefined; // the PID now names another process
  return pid;
}
