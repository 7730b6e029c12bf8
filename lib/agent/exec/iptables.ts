// The iptables adapter: backend detection (legacy vs nf_tables), atomic restore of our own chains, chain listing,
// idempotent jump rules. Used by the service proxy, the pod network and network policy.
import type { CommandRunner } from './runner.ts';

export type IptablesMode = 'nft' | 'legacy';

export interface Iptables {
  mode: IptablesMode;
  /** Binary names for this backend. */
  iptables: string;
  save: string;
  restore: string;
}

export function iptablesFor(mode: IptablesMode): Iptables {
  return { mode, iptables: `iptables-${mode}`, save: `iptables-${mode}-save`, restore: `iptables-${mode}-restore` };
}

/** Parses `iptables --version` output: "iptables v1.8.9 (nf_tables)" or "(legacy)"; older ones print neither. */
export function parseIptablesVersion(out: string): IptablesMode {
  return /nf_tables/.test(out) ? 'nft' : 'legacy';
}

/** Detects the backend the host's `iptables` uses and picks the matching -restore/-save binaries. */
export async function detectIptables(runner: CommandRunner): Promise<Iptables> {
  const v = await runner.run('iptables', ['--version'], { allowFail: true });
  const mode = parseIptablesVersion(v.stdout + v.stderr);
  const specific = iptablesFor(mode);
  const probe = await runner.run(specific.restore, ['--version'], { allowFail: true }).catch(() => ({ code: 127 }));
  if (probe.code === 0) return specific;
  // Distributions without the -nft/-legacy names: the plain binaries are the host's backend.
  return { mode, iptables: 'iptables', save: 'iptables-save', restore: 'iptables-restore' };
}

/** Applies iptables-restore text without flushing anything not named in it. Large rule sets on a slow board take
 * a while (1,000 services: seconds), so the timeout grows with the text. */
export async function restore(runner: CommandRunner, ipt: Iptables, text: string): Promise<void> {
  await runner.run(ipt.restore, ['--noflush', '-w', '5'], { input: text, timeoutMs: 60_000 + Math.ceil(text.length / 1000) * 100 });
}

/** Parses iptables-save output into chain names per table. */
export function parseSaveChains(save: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let table = '';
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) out[(table = line.slice(1).trim())] = [];
    else if (line.startsWith(':') && table) out[table]!.push(line.slice(1).split(' ')[0]!);
  }
  return out;
}

/** Lists the chains of a table (empty when the table cannot be read). */
export async function listChains(runner: CommandRunner, ipt: Iptables, table: string): Promise<string[]> {
  const r = await runner.run(ipt.save, ['-t', table], { allowFail: true });
  if (r.code !== 0) return [];
  return parseSaveChains(r.stdout)[table] ?? [];
}

export interface JumpRule {
  table: string;
  chain: string;
  /** The rule's match and target, e.g. ['-m', 'comment', '--comment', 'x', '-j', 'TSK-SERVICES']. */
  rule: string[];
}

/** Inserts the rule at the top of its chain unless an identical rule is there already. */
export async function ensureRule(runner: CommandRunner, ipt: Iptables, j: JumpRule): Promise<void> {
  const check = await runner.run(ipt.iptables, ['-w', '5', '-t', j.table, '-C', j.chain, ...j.rule], { allowFail: true });
  if (check.code === 0) return;
  await runner.run(ipt.iptables, ['-w', '5', '-t', j.table, '-I', j.chain, ...j.rule]);
}

/** Deletes every copy of the rule; missing rules are fine. */
export async function deleteRule(runner: CommandRunner, ipt: Iptables, j: JumpRule): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const r = await runner.run(ipt.iptables, ['-w', '5', '-t', j.table, '-D', j.chain, ...j.rule], { allowFail: true });
    if (r.code !== 0) return;
  }
}

/**
 * Removes jump rules into, then flushes and deletes, every chain matching `owned` in the given tables.
 * Rules in built-in chains that jump to an owned chain are found through iptables-save.
 */
export async function removeChains(runner: CommandRunner, ipt: Iptables, tables: string[], owned: (chain: string) => boolean): Promise<void> {
  for (const table of tables) {
    const r = await runner.run(ipt.save, ['-t', table], { allowFail: true });
    if (r.code !== 0) continue;
    const chains = (parseSaveChains(r.stdout)[table] ?? []).filter(owned);
    if (!chains.length) continue;
    const lines = [`*${table}`];
    for (const c of chains) lines.push(`:${c} - [0:0]`);
    // Rules in chains we do not own that jump into ours: delete them by spec.
    for (const line of r.stdout.split('\n')) {
      const m = /^-A (\S+) (.*)$/.exec(line);
      if (!m || owned(m[1]!)) continue;
      const target = /-j (\S+)/.exec(m[2]!)?.[1];
      if (target && owned(target)) lines.push(`-D ${m[1]} ${m[2]}`);
    }
    for (const c of chains) lines.push(`-X ${c}`);
    lines.push('COMMIT', '');
    await restore(runner, ipt, lines.join('\n'));
  }
}

/** Makes the rule the first of its chain (deleting copies elsewhere in the chain), so nothing before it can ACCEPT. */
export async function ensureFirstRule(runner: CommandRunner, ipt: Iptables, j: JumpRule): Promise<void> {
  const r = await runner.run(ipt.iptables, ['-w', '5', '-t', j.table, '-S', j.chain], { allowFail: true });
  const first = r.stdout.split('\n').find((l) => l.startsWith('-A '));
  const target = j.rule[j.rule.indexOf('-j') + 1];
  if (first && target && new RegExp(`-j ${target}(\\s|$)`).test(first)) return;
  await deleteRule(runner, ipt, j);
  await runner.run(ipt.iptables, ['-w', '5', '-t', j.table, '-I', j.chain, '1', ...j.rule]);
}
