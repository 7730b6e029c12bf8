import type { CommandModule } from 'yargs';
import { VERSION } from '../lib/config.ts';

export const versionCommand: CommandModule = {
  command: 'version',
  describe: 'print the version',
  handler() {
    process.stdout.write(`tsk version ${VERSION.tsk}\nkubernetes ${VERSION.gitVersion}\nnode ${process.version}\n`);
  },
};
