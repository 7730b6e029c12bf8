// `tsk certificate rotate|check`: renew the server's leaf certificates (with the server stopped) or show expiry.
import type { CommandModule } from 'yargs';
import { hostname } from 'node:os';
import { DEFAULTS } from '../lib/config.ts';

export const certificateCommand: CommandModule = {
  command: 'certificate <action>',
  describe: 'rotate or check the server certificates (rotate with the server stopped; it picks them up at start)',
  builder: (y) =>
    y
      .positional('action', { choices: ['rotate', 'check'] as const, describe: 'rotate: renew every leaf certificate now; check: print expiry dates' })
      .option('data-dir', { alias: 'd', type: 'string', default: DEFAULTS.dataDir, describe: 'folder holding server/tls' })
      .option('node-name', { type: 'string', describe: 'node name in the serving certificate (default: hostname)' })
      .option('node-ip', { type: 'array', string: true, default: [] as string[], describe: 'node IPs in the serving certificate' })
      .option('tls-san', { type: 'array', string: true, default: [] as string[], describe: 'extra serving certificate names' }),
  async handler(a) {
    const { ensureCertificates, rotateCertificates, tlsDir } = await import('../lib/server/pki/certificates.ts');
    const { certInfo } = await import('../lib/server/pki/x509.ts');
    const { existsSync, readFileSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dataDir = String(a.dataDir);
    const dir = tlsDir(dataDir);
    if (a.action === 'check') {
      if (!existsSync(dir)) throw new Error(`${dir} does not exist: has the server started once with --data-dir ${dataDir}?`);
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.crt')).sort()) {
        const i = certInfo(readFileSync(join(dir, f), 'utf8'));
        process.stdout.write(`${f.padEnd(32)} ${i.notAfter.toISOString()}  ${i.subject.cn}\n`);
      }
      return;
    }
    const opts = {
      dataDir,
      nodeName: String(a.nodeName ?? hostname()).toLowerCase(),
      nodeIps: (a.nodeIp as string[]).flatMap((s) => s.split(',')).filter(Boolean),
      tlsSans: (a.tlsSan as string[]).flatMap((s) => s.split(',')).filter(Boolean),
    };
    if (!existsSync(join(dir, 'server-ca.crt'))) {
      await ensureCertificates(opts);
      process.stdout.write(`no certificates existed in ${dir}; generated them\n`);
      return;
    }
    await rotateCertificates(opts);
    process.stdout.write(`renewed the leaf certificates in ${dir} (the CAs are unchanged); start the server to use them\n`);
  },
};
