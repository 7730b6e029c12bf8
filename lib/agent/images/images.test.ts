import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pauseElf } from './pause-elf.ts';
import { tar } from './tar.ts';
import { ociImageArchive } from './oci-layout.ts';

/** Reads a ustar archive back into name → { type, data, linkname } (test-only reader). */
function untar(buf: Buffer): Map<string, { type: string; data: Buffer; link: string }> {
  const out = new Map<string, { type: string; data: Buffer; link: string }>();
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, n: number) => h.subarray(a, a + n).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(str(124, 12), 8);
    const prefix = str(345, 155);
    const name = (prefix ? `${prefix}/` : '') + str(0, 100);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== parseInt(str(148, 8), 8)) throw new Error(`bad checksum for ${name}`);
    out.set(name, { type: str(156, 1), data: buf.subarray(off + 512, off + 512 + size), link: str(157, 100) });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

t.test('tar writes files, dirs, symlinks and long names', async (t) => {
  const long = `${'d'.repeat(80)}/${'f'.repeat(60)}`;
  const m = untar(tar([
    { name: 'bin', type: 'dir' },
    { name: 'bin/x', type: 'file', data: Buffer.from('hello'), mode: 0o755 },
    { name: 'bin/y', type: 'symlink', linkname: 'x' },
    { name: long, type: 'file', data: Buffer.alloc(600, 1) },
  ]));
  t.equal(m.get('bin/')?.type, '5');
  t.equal(m.get('bin/x')?.data.toString(), 'hello');
  t.equal(m.get('bin/y')?.link, 'x');
  t.equal(m.get(long)?.data.length, 600);
});

t.test('OCI layout archive: index names the image, digests match', async (t) => {
  const m = untar(ociImageArchive({ name: 'docker.io/tsk/test:1.0', files: [{ name: 'a', type: 'file', data: Buffer.from('a') }], entrypoint: ['/a'], arch: 'arm64' }));
  const index = JSON.parse(m.get('index.json')!.data.toString());
  t.equal(index.manifests[0].annotations['io.containerd.image.name'], 'docker.io/tsk/test:1.0');
  t.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], '1.0');
  for (const [name, e] of m) {
    if (name.startsWith('blobs/sha256/') && e.type === '0') t.equal(createHash('sha256').update(e.data).digest('hex'), name.slice(13));
  }
  const manifest = JSON.parse(m.get(`blobs/sha256/${index.manifests[0].digest.slice(7)}`)!.data.toString());
  const config = JSON.parse(m.get(`blobs/sha256/${manifest.config.digest.slice(7)}`)!.data.toString());
  t.equal(config.architecture, 'arm64');
  t.same(config.config.Entrypoint, ['/a']);
  t.equal(config.rootfs.diff_ids[0], manifest.layers[0].digest);
});

t.test('pause binary sleeps until SIGTERM and exits 0', { skip: process.arch !== 'x64' && process.arch !== 'arm64' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsk-pause-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'pause');
  writeFileSync(bin, pauseElf(process.arch), { mode: 0o755 });
  const child = spawn(bin, [], { stdio: 'ignore' });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  await new Promise((r) => setTimeout(r, 200));
  t.equal(child.exitCode, null, 'still running');
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  t.equal(await exited, 0);
  t.equal(pauseElf('arm64').readUInt16LE(18), 0xb7);
});
