// `tsk snapshot save|restore|ls`: copies of the server's store, like `k3s etcd-snapshot`.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { DEFAULTS } from '../lib/config.ts';
import { setupLogging } from './cli.ts';

// Not strict: the shared config file (/etc/tsk/config.yaml) holds server flags this command does not know.
const dataDir = <T>(y: Argv<T>) =>
  y.strict(false).option('data-dir', { alias: 'd', type: 'string', default: DEFAULTS.dataDir, describe: 'folder holding the server state' });

const saveCommand: CommandModule = {
  command: 'save',
  describe: 'write a consistent copy of the store to <data-dir>/server/db/snapshots (safe while the server runs)',
  builder: (y) =>
    dataDir(y)
      .option('name', { type: 'string', default: 'on-demand', describe: 'snapshot name prefix' })
      .option('dir', { type: 'string', describe: 'write the snapshot here instead' })
      .check((a) => {
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(String(a.name))) throw new Error(`--name ${JSON.stringify(a.name)} may hold only letters, digits, '.', '_' and '-'`);
        return true;
      }),
  async handler(a) {
    setupLogging(a as never);
    const { save } = await import('../lib/store/snapshot.ts');
    const { snapshotDir, storePath } = await import('../lib/store/open.ts');
    const dir = a.dir ? String(a.dir) : snapshotDir(String(a.dataDir));
    const file = join(dir, `${String(a.name)}-${hostname().toLowerCase()}-${Math.floor(Date.now() / 1000)}`);
    const info = await save(storePath(String(a.dataDir)), file);
    process.stdout.write(`snapshot ${info.file} saved (${info.size} bytes, revision ${info.revision})\n`);
  },
};

const restoreCommand: CommandModule = {
  command: 'restore <file>',
  describe: 'replace the store with a snapshot; the server must be stopped (the old database is kept aside)',
  builder: (y) => dataDir(y).positional('file', { type: 'string', describe: 'snapshot file, or a name in the snapshot folder' }),
  async handler(a) {
    setupLogging(a as never);
    const { restore } = await import('../lib/store/snapshot.ts');
    const { snapshotDir, storePath } = await import('../lib/store/open.ts');
    let file = String(a.file);
    const inDir = join(snapshotDir(String(a.dataDir)), file);
    if (!existsSync(file) && existsSync(inDir)) file = inDir;
    const res = restore(resolve(file), storePath(String(a.dataDir)));
    process.stdout.write(`store restored from ${file} (revision ${res.revision})` + (res.previous ? `; the previous database was kept as ${res.previous}` : '') + '\n');
  },
};

const lsCommand: CommandModule = {
  command: ['ls', 'list'],
  describe: 'list the snapshots in <data-dir>/server/db/snapshots',
  builder: (y) => dataDir(y),
  async handler(a) {
    const { listSnapshots } = await import('../lib/store/snapshot.ts');
    const { snapshotDir } = await import('../lib/store/open.ts');
    for (const s of listSnapshots(snapshotDir(String(a.dataDir)))) process.stdout.write(`${s.file}\t${s.size}\t${s.mtime.toISOString()}\n`);
  },
};

export const snapshotCommand: CommandModule = {
  command: 'snapshot <command>',
  describe: 'save, restore and list snapshots of the server store',
  builder: (y) => y.command(saveCommand).command(restoreCommand).command(lsCommand).demandCommand(1),
  handler() {},
};
