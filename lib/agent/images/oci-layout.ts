// Builds an OCI image layout archive (oci-layout, index.json, blobs/sha256/...) with one uncompressed layer, as
// `ctr images import` and k3s-style air-gap directories expect. The image name goes in the
// io.containerd.image.name annotation so containerd imports it under its full reference.
import { createHash } from 'node:crypto';
import { tar, type TarEntry } from './tar.ts';
import { ociArch } from './pause-elf.ts';

export interface ImageSpecInput {
  /** Full reference, e.g. docker.io/library/busybox:latest. */
  name: string;
  /** Root filesystem entries (paths without a leading slash). */
  files: TarEntry[];
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  /** Node process.arch (default: this process). */
  arch?: string;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function ociImageArchive(spec: ImageSpecInput): Buffer {
  const layer = tar(spec.files);
  const layerDigest = sha256(layer);
  const config = Buffer.from(JSON.stringify({
    architecture: ociArch(spec.arch ?? process.arch),
    os: 'linux',
    config: {
      Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      ...(spec.cmd ? { Cmd: spec.cmd } : {}),
      WorkingDir: spec.workingDir ?? '/',
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created_by: 'tsk' }],
  }));
  const configDigest = sha256(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configDigest}`, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layer.length }],
  }));
  const manifestDigest = sha256(manifest);
  const tag = spec.name.includes(':') && !spec.name.slice(spec.name.lastIndexOf(':')).includes('/') ? spec.name.slice(spec.name.lastIndexOf(':') + 1) : 'latest';
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${manifestDigest}`, size: manifest.length,
      platform: { architecture: ociArch(spec.arch ?? process.arch), os: 'linux' },
      annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': tag },
    }],
  }));
  return tar([
    { name: 'oci-layout', type: 'file', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { name: 'index.json', type: 'file', data: index },
    { name: 'blobs', type: 'dir' },
    { name: 'blobs/sha256', type: 'dir' },
    { name: `blobs/sha256/${configDigest}`, type: 'file', data: config },
    { name: `blobs/sha256/${manifestDigest}`, type: 'file', data: manifest },
    { name: `blobs/sha256/${layerDigest}`, type: 'file', data: layer },
  ]);
}

/** Directories every image root gets so runtime mounts (/etc/hosts, /proc, ...) have a place. */
export const baseDirs = (): TarEntry[] => ['dev', 'proc', 'sys', 'etc', 'tmp', 'run', 'var', 'root'].map((name) => ({ name, type: 'dir', mode: name === 'tmp' ? 0o1777 : 0o755 }));
