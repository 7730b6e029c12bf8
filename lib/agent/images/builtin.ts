// Images tsk makes itself: the pause image (from pause-elf.ts) and, for tests, a busybox image from the host's
// static /bin/busybox plus applet symlinks.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { VERSION } from '../../config.ts';
import { baseDirs, ociImageArchive } from './oci-layout.ts';
import { pauseElf } from './pause-elf.ts';
import type { TarEntry } from './tar.ts';

export const PAUSE_IMAGE = `docker.io/tsk/pause:${VERSION.tsk}`;

export function pauseImageArchive(arch = process.arch): Buffer {
  return ociImageArchive({
    name: PAUSE_IMAGE,
    arch,
    files: [...baseDirs(), { name: 'pause', type: 'file', mode: 0o755, data: pauseElf(arch) }],
    entrypoint: ['/pause'],
    env: [],
  });
}

/** A busybox image (default docker.io/library/busybox:latest) built from a static busybox binary. */
export function busyboxImageArchive(name = 'docker.io/library/busybox:latest', busybox = '/bin/busybox'): Buffer {
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').map((s) => s.trim()).filter((s) => s && s !== 'busybox');
  const files: TarEntry[] = [
    ...baseDirs(),
    { name: 'bin', type: 'dir' },
    { name: 'bin/busybox', type: 'file', mode: 0o755, data: readFileSync(busybox) },
    ...applets.map((a): TarEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'etc/passwd', type: 'file', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n') },
    { name: 'etc/group', type: 'file', data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
  ];
  return ociImageArchive({ name, files, cmd: ['sh'] });
}
