import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pauseElf } from './pause-elf.ts';
import { tar } from './tar.ts';
import { ociImageArchive } from './oci-layout.ts';
import { FakeCri } from '../cri/fake.ts';
import type { Image } from '../cri/types.ts';
import { scanAirgap } from './airgap.ts';
import { selectImagesToRemove } from './gc.ts';
import { authFor, defaultPullPolicy, ensureImage, normalizeImage } from './pull.ts';
import { parseRegistries, renderHostsToml } from './registries.ts';
import { tempDir } from '../../test-fixture.ts';

// ---- images
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
  const dir = tempDir(t, 'tsk-pause-');
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

// ---- pull
t.test('normalizeImage and default pull policy', async (t) => {
  t.equal(normalizeImage('busybox'), 'docker.io/library/busybox:latest');
  t.equal(normalizeImage('nginx:1.27'), 'docker.io/library/nginx:1.27');
  t.equal(normalizeImage('me/app'), 'docker.io/me/app:latest');
  t.equal(normalizeImage('localhost:5000/app'), 'localhost:5000/app:latest');
  t.equal(normalizeImage('ghcr.io/a/b:v1'), 'ghcr.io/a/b:v1');
  t.equal(normalizeImage('a@sha256:abc'), 'docker.io/library/a@sha256:abc');
  t.equal(defaultPullPolicy('busybox'), 'Always');
  t.equal(defaultPullPolicy('busybox:1.36'), 'IfNotPresent');
});

t.test('credentials from pull secrets, then registries.yaml', async (t) => {
  const dockerconfig = { auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('u1:p:1').toString('base64') }, 'reg.example.com': { username: 'u2', password: 'p2' } } };
  const secret = { metadata: { name: 's' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify(dockerconfig)).toString('base64') } };
  t.match(authFor('busybox', [secret]), { username: 'u1', password: 'p:1' });
  t.match(authFor('reg.example.com/x:1', [secret]), { username: 'u2', password: 'p2', server_address: 'reg.example.com' });
  t.equal(authFor('other.io/x', [secret]), undefined);
  t.match(authFor('other.io/x', [secret], { configs: { 'other.io': { auth: { username: 'u3', password: 'p3' } } } }), { username: 'u3' });
});

t.test('ensureImage follows the pull policy', async (t) => {
  const cri = new FakeCri(['docker.io/library/present:1']);
  t.equal(await ensureImage({ cri, image: 'docker.io/library/present:1', secrets: [] }), 'docker.io/library/present:1');
  t.equal(cri.calls.filter((c) => c.method === 'pullImage').length, 0, 'IfNotPresent: no pull');
  await t.rejects(ensureImage({ cri, image: 'x:1', policy: 'Never', secrets: [] }), { reason: 'ErrImageNeverPull' } as unknown as Error);
  await t.rejects(ensureImage({ cri, image: 'x:1', secrets: [] }), { reason: 'ErrImagePull' } as unknown as Error);
  cri.pullable.add('x:1');
  t.equal(await ensureImage({ cri, image: 'x:1', secrets: [] }), 'x:1');
  t.equal(await ensureImage({ cri, image: 'docker.io/library/present:1', policy: 'Always', secrets: [] }), 'docker.io/library/present:1', 'Always with a local copy survives a failed pull');
});

t.test('registries.yaml → hosts.toml', async (t) => {
  const cfg = parseRegistries(`
mirrors:
  docker.io:
    endpoint: ["http://10.0.0.5:5000", "mirror.example.com"]
  "*":
    endpoint: ["http://cache.local"]
configs:
  "mirror.example.com":
    tls:
      insecure_skip_verify: true
      ca_file: /etc/ssl/ca.pem
  "private.io":
    tls:
      ca_file: /etc/ssl/private.pem
`);
  const files = renderHostsToml(cfg);
  t.same([...files.keys()].sort(), ['_default/hosts.toml', 'docker.io/hosts.toml', 'mirror.example.com/hosts.toml', 'private.io/hosts.toml']);
  const d = files.get('docker.io/hosts.toml')!;
  t.match(d, /^server = "https:\/\/registry-1.docker.io"$/m);
  t.match(d, /\[host\."http:\/\/10\.0\.0\.5:5000"\]\n {2}capabilities = \["pull", "resolve"\]/);
  t.match(d, /\[host\."https:\/\/mirror\.example\.com"\]\n.*\n {2}skip_verify = true\n {2}ca = "\/etc\/ssl\/ca.pem"/);
  t.ok(d.indexOf('10.0.0.5') < d.indexOf('mirror.example.com'), 'endpoint order kept');
  t.notMatch(files.get('_default/hosts.toml')!, /^server/m);
  t.match(files.get('private.io/hosts.toml')!, /\[host\."https:\/\/private\.io"\][^]*ca = "\/etc\/ssl\/private.pem"/);
});

t.test('image GC picks unused images, largest first, never kept ones', async (t) => {
  const img = (id: string, size: number, tag = id, pinned = false): Image => ({ id, repo_tags: [tag], repo_digests: [], size: String(size), username: '', pinned });
  const images = [img('a', 30), img('b', 50), img('c', 20), img('pause', 1, 'docker.io/tsk/pause:1'), img('d', 60, 'd', true)];
  t.same(selectImagesToRemove({ images, inUse: new Set(), keep: new Set(), usedBytes: 80, capacityBytes: 100 }), [], 'below the high threshold');
  const r = selectImagesToRemove({ images, inUse: new Set(['b']), keep: new Set(['docker.io/tsk/pause:1']), usedBytes: 90, capacityBytes: 100 });
  t.same(r.map((i) => i.id), ['a'], 'frees 10 bytes with the largest unused image');
  const all = selectImagesToRemove({ images, inUse: new Set(), keep: new Set(['docker.io/tsk/pause:1']), usedBytes: 200, capacityBytes: 100 });
  t.same(all.map((i) => i.id), ['b', 'a', 'c'], 'pinned and pause images stay');
});

t.test('air-gap scan imports new and changed archives once', async (t) => {
  const dir = tempDir(t, 'tsk-airgap-');
  const imported: string[] = [];
  const importer = { importFile: async (f: string) => { imported.push(f); } };
  writeFileSync(join(dir, 'a.tar'), 'a');
  writeFileSync(join(dir, 'b.tar.zst'), 'b');
  writeFileSync(join(dir, 'notes.txt'), 'x');
  const seen = new Map<string, string>();
  t.same((await scanAirgap(dir, importer, seen)).map((f) => f.slice(dir.length + 1)), ['a.tar', 'b.tar.zst']);
  t.same(await scanAirgap(dir, importer, seen), [], 'nothing new');
  writeFileSync(join(dir, 'c.tar.gz'), 'c');
  writeFileSync(join(dir, 'a.tar'), 'a2');
  t.same((await scanAirgap(dir, importer, seen)).map((f) => f.slice(dir.length + 1)), ['a.tar', 'c.tar.gz']);
});
