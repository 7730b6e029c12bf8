// `tsk token create|list|delete|rotate`: bootstrap tokens through the running server (admin kubeconfig over
// HTTPS), and rotation of the server's join secret in <data-dir>/server/token.
import type { CommandModule } from 'yargs';
import { DEFAULTS } from '../lib/config.ts';

const kubeconfigFlag = { type: 'string', default: DEFAULTS.kubeconfig, describe: 'admin kubeconfig of the running server' } as const;

async function client(kubeconfig: string) {
  const { existsSync } = await import('node:fs');
  if (!existsSync(kubeconfig)) throw new Error(`admin kubeconfig ${kubeconfig} not found: run this on the server, or pass --kubeconfig`);
  const { restClientFromKubeconfig } = await import('../lib/server/pki/kube-rest.ts');
  return restClientFromKubeconfig(kubeconfig);
}

export const tokenCommand: CommandModule = {
  command: 'token <action>',
  describe: 'manage join tokens (create, list, delete bootstrap tokens; rotate the server join secret)',
  builder: (y) =>
    y
      .positional('action', { choices: ['create', 'list', 'delete', 'rotate'] as const, describe: 'what to do' })
      .option('kubeconfig', kubeconfigFlag)
      .option('ttl', { type: 'string', default: '24h', describe: 'create: lifetime of the token (0: never expires)' })
      .option('description', { type: 'string', describe: 'create: human-readable description' })
      .option('groups', { type: 'array', string: true, default: [] as string[], describe: 'create: extra groups (system:bootstrappers:...)' })
      .option('data-dir', { alias: 'd', type: 'string', default: DEFAULTS.dataDir, describe: 'rotate: the server data dir' })
      .option('new-token', { type: 'string', describe: 'rotate: the new secret (default: random)' })
      .strict(false),
  async handler(a) {
    const action = String(a.action);
    const rest = ((a._ as unknown[]) ?? []).slice(1).map(String);
    const out = (s: string) => process.stdout.write(`${s}\n`);
    if (action === 'rotate') {
      const { rotateServerToken } = await import('../lib/server/join/token.ts');
      const { readFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const ca = readFileSync(join(String(a.dataDir), 'server', 'tls', 'server-ca.crt'), 'utf8');
      const { token } = rotateServerToken({ dataDir: String(a.dataDir), caPem: ca, newSecret: a.newToken as string | undefined });
      out(token);
      process.stderr.write('The join secret was replaced. Joined agents keep working; new agents need this token. A server started with --token keeps using that value.\n');
      return;
    }
    const { client: c, creds } = await client(String(a.kubeconfig));
    const bt = await import('../lib/server/join/bootstrap-tokens.ts');
    if (action === 'create') {
      const { caHash } = await import('../lib/server/join/token.ts');
      const groups = (a.groups as string[]).flatMap((g) => g.split(',')).filter(Boolean);
      for (const g of groups) if (!g.startsWith('system:bootstrappers:')) throw new Error(`--groups ${g}: extra groups must start with system:bootstrappers:`);
      const t = await bt.createBootstrapToken(c, { ttlMs: bt.parseTtl(String(a.ttl)), description: a.description as string | undefined, groups });
      out(`K10${caHash(creds.caPem)}::${t.id}.${t.secret}`);
    } else if (action === 'list') {
      const tokens = await bt.listBootstrapTokens(c);
      const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
      for (const t of tokens) {
        const left = t.expiration ? Math.max(0, Date.parse(t.expiration) - Date.now()) : undefined;
        const ttl = left === undefined ? '<forever>' : left === 0 ? '<invalid>' : left > 86_400_000 ? `${Math.floor(left / 86_400_000)}d` : `${Math.floor(left / 3_600_000)}h`;
        rows.push([`${t.id}.<secret>`, ttl, t.expiration ?? '<never>', t.usages.join(','), t.description ?? '<none>', t.groups.join(',') || '<none>']);
      }
      const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) out(r.map((c2, i) => c2.padEnd(w[i]!)).join('   ').trimEnd());
    } else if (action === 'delete') {
      if (!rest.length) throw new Error('tsk token delete needs one or more token ids');
      for (const id of rest) {
        await bt.deleteBootstrapToken(c, id);
        out(`bootstrap token "${id.split('.')[0]}" deleted`);
      }
    }
  },
};
