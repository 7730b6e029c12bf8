// Facts about this machine for the Node object (the one place that reads /proc, /etc and statfs for it).
import { readFileSync, statfsSync } from 'node:fs';
import { availableParallelism, freemem, release, totalmem } from 'node:os';
import { ociArch } from '../images/pause-elf.ts';

export interface MachineFacts {
  cpus: number;
  memoryBytes: number;
  memoryAvailableBytes: number;
  diskBytes: number;
  diskFreeBytes: number;
  arch: string;
  kernelVersion: string;
  osImage: string;
  machineID: string;
  bootID: string;
  systemUUID: string;
}

const read = (p: string) => { try { return readFileSync(p, 'utf8').trim(); } catch { return ''; } };

function memAvailable(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(read('/proc/meminfo'));
  return m ? Number(m[1]) * 1024 : freemem();
}

export function machineFacts(dataDir: string): MachineFacts {
  let diskBytes = 0;
  let diskFreeBytes = 0;
  try {
    const s = statfsSync(dataDir);
    diskBytes = s.blocks * s.bsize;
    diskFreeBytes = s.bavail * s.bsize;
  } catch { /* data dir missing */ }
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(read('/etc/os-release'));
  return {
    cpus: availableParallelism(),
    memoryBytes: totalmem(),
    memoryAvailableBytes: memAvailable(),
    diskBytes,
    diskFreeBytes,
    arch: ociArch(process.arch),
    kernelVersion: release(),
    osImage: pretty?.[1] ?? 'Linux',
    machineID: read('/etc/machine-id'),
    bootID: read('/proc/sys/kernel/random/boot_id'),
    systemUUID: read('/sys/class/dmi/id/product_uuid'),
  };
}
