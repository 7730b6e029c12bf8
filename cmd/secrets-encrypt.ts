// `tsk secrets-encrypt status|enable|disable|rotate-keys`: edits <data-dir>/server/cred/encryption-config.json.
// A running server on this data dir notices the change, swaps its keys and re-encrypts stored Secrets in the
// background; a stopped one does it at its next start.
import type { CommandModule } from 'yargs';
import { DEFAULTS } from '../lib/config.ts';

export const secretsEncryptCommand: CommandModule = {
  command: 'secrets-encrypt <action>',
  describe: 'Secrets encryption at rest (a running server applies changes and re-encrypts stored Secrets; a stopped one at its next start)',
  builder: (y) =>
    y
      .positional('action', { choices: ['status', 'enable', 'disable', 'rotate-keys'] as const })
      .option('data-dir', { alias: 'd', type: 'string', default: DEFAULTS.dataDir, describe: 'the server data dir' }),
  async handler(a) {
    const cfg = await import('../lib/server/encryption/config.ts');
    const dataDir = String(a.dataDir);
    const out = (s: string) => process.stdout.write(`${s}\n`);
    if (a.action === 'enable') cfg.enableEncryption(dataDir);
    else if (a.action === 'disable') cfg.disableEncryption(dataDir);
    else if (a.action === 'rotate-keys') cfg.rotateEncryptionKeys(dataDir);
    const st = cfg.encryptionStatus(dataDir);
    out(`Encryption Status: ${st.enabled ? 'Enabled' : 'Disabled'}`);
    out(`Provider: ${st.provider}`);
    if (st.currentKey) out(`Current Key: ${st.currentKey}`);
    if (st.keys.length) out(`Keys: ${st.keys.join(', ')}`);
    out(`Config: ${cfg.encryptionConfigFile(dataDir)}`);
    if (a.action !== 'status') out('A running server on this data dir applies the change within seconds and re-encrypts every stored Secret in the background; a stopped server does it at its next start.');
  },
};
