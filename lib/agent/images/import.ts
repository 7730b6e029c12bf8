// Imports image archives into containerd's k8s.io namespace with `ctr` (the containerd package's client), through
// the CommandRunner seam. .tar.gz / .tgz and .tar.zst are decompressed to a temporary file first.
import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { execRunner, type CommandRunner } from '../exec/runner.ts';
import { logger } from '../../log/logger.ts';

const log = logger('agent/images');

export interface ImporterOptions {
  /** containerd socket path (not a URL). */
  address: string;
  runner?: CommandRunner;
  ctr?: string;
  /** Where decompressed archives go for the duration of an import (default os.tmpdir()). */
  tmpDir?: string;
}

export const isImageArchive = (name: string): boolean => /\.(tar|tar\.gz|tgz|tar\.zst|tar\.zstd)$/.test(name);

export class ImageImporter {
  #o: ImporterOptions;
  constructor(o: ImporterOptions) { this.#o = o; }

  async #ctr(file: string): Promise<void> {
    const address = this.#o.address.replace(/^unix:\/\//, '');
    await (this.#o.runner ?? execRunner).run(this.#o.ctr ?? 'ctr', ['--address', address, '--namespace', 'k8s.io', 'images', 'import', file], { timeoutMs: 10 * 60_000 });
  }

  /** Imports one archive file (OCI layout or docker-archive, optionally gzip or zstd compressed). */
  async importFile(file: string): Promise<void> {
    const decompress = /\.(tar\.gz|tgz)$/.test(file) ? createGunzip() : /\.tar\.zstd?$/.test(file) ? createZstdDecompress() : undefined;
    if (!decompress) {
      await this.#ctr(file);
    } else {
      const dir = mkdtempSync(join(this.#o.tmpDir ?? tmpdir(), 'tsk-import-'));
      try {
        const plain = join(dir, 'image.tar');
        await pipeline(createReadStream(file), decompress, createWriteStream(plain));
        await this.#ctr(plain);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    log.info('imported image archive', { file });
  }

  /** Imports an archive held in memory (the built-in pause image). */
  async importBuffer(name: string, archive: Buffer): Promise<void> {
    const dir = mkdtempSync(join(this.#o.tmpDir ?? tmpdir(), 'tsk-import-'));
    try {
      const f = join(dir, `${name}.tar`);
      writeFileSync(f, archive);
      await this.#ctr(f);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
