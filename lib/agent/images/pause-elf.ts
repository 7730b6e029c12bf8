// tsk's pause process: a 200-byte static ELF written here byte by byte, for x86_64 and aarch64. It blocks SIGINT,
// SIGTERM and SIGCHLD, then loops in rt_sigtimedwait: SIGCHLD reaps zombies (wait4(-1, WNOHANG)), SIGINT or SIGTERM
// exits 0. As PID 1 of the pod it needs no signal handlers because the signals are taken synchronously.

// Machine code (assembled from the sequence described above; syscall numbers per arch in the comments).
const CODE: Record<'x64' | 'arm64', string> = {
  // rt_sigprocmask=14, rt_sigtimedwait=128, wait4=61, exit_group=231
  x64: 'b8024001005031ff4889e631d241ba08000000b80e0000000f054889e731f631d241ba08000000b8800000000f0583f811751f48c7c7ffffffff31f6'
    + 'ba010000004531d2b83d0000000f054885c07fe3ebc883f802740783f80f7402ebbc31ffb8e70000000f05',
  // rt_sigprocmask=135, rt_sigtimedwait=137, wait4=260, exit_group=94
  arm64: 'ff4300d1400088d22000a0f2e00300f9000080d2e1030091020080d2030180d2e81080d2010000d4e0030091010080d2020080d2030180d2'
    + '281180d2010000d41f4400f14101005400008092010080d2220080d2030080d2882080d2010000d41f0000f12cffff54f0ffff171f0800f1'
    + '800000541f3c00f140000054ebffff17000080d2c80b80d2010000d4',
};

const MACHINE = { x64: 0x3e, arm64: 0xb7 } as const;
const BASE = 0x400000n;
const EHDR = 64;
const PHDR = 56;

export type PauseArch = keyof typeof CODE;

/** The pause binary for a Node process.arch value ('x64' or 'arm64'). */
export function pauseElf(arch: string): Buffer {
  if (arch !== 'x64' && arch !== 'arm64') throw new Error(`no pause binary for architecture ${arch}`);
  const code = Buffer.from(CODE[arch], 'hex');
  const size = EHDR + PHDR + code.length;
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // magic, 64-bit, little endian, version 1, SYSV
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(MACHINE[arch], 18);
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(BASE + BigInt(EHDR + PHDR), 24); // entry
  b.writeBigUInt64LE(BigInt(EHDR), 32); // phoff
  b.writeBigUInt64LE(0n, 40); // shoff
  b.writeUInt32LE(0, 48); // flags
  b.writeUInt16LE(EHDR, 52);
  b.writeUInt16LE(PHDR, 54);
  b.writeUInt16LE(1, 56); // phnum
  b.writeUInt16LE(64, 58); // shentsize
  b.writeUInt16LE(0, 60);
  b.writeUInt16LE(0, 62);
  const p = EHDR;
  b.writeUInt32LE(1, p); // PT_LOAD
  b.writeUInt32LE(5, p + 4); // R+X
  b.writeBigUInt64LE(0n, p + 8);
  b.writeBigUInt64LE(BASE, p + 16);
  b.writeBigUInt64LE(BASE, p + 24);
  b.writeBigUInt64LE(BigInt(size), p + 32);
  b.writeBigUInt64LE(BigInt(size), p + 40);
  b.writeBigUInt64LE(0x1000n, p + 48);
  code.copy(b, EHDR + PHDR);
  return b;
}

/** OCI architecture name for a Node process.arch value. */
export function ociArch(arch: string): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' } as Record<string, string>)[arch] ?? arch;
}
