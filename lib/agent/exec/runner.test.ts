import t from 'tap';
import { CommandError, execRunner, RecordingRunner } from './runner.ts';
import { parseIptablesVersion, parseSaveChains, ensureRule, ensureFirstRule, iptablesFor } from './iptables.ts';

t.test('execRunner: stdin, exit codes, allowFail', async (t) => {
  t.equal((await execRunner.run('cat', [], { input: 'hi\n' })).stdout, 'hi\n');
  await t.rejects(execRunner.run('false', []), /exited 1/);
  t.ok(await execRunner.run('false', []).catch((e: unknown) => e instanceof CommandError));
  t.equal((await execRunner.run('false', [], { allowFail: true })).code, 1);
  await t.rejects(execRunner.run('/nonexistent/tsk-binary', []), /running/);
});

t.test('RecordingRunner: scripted answers, latest responder wins', async (t) => {
  const r = new RecordingRunner().on('ip link', { stdout: 'a' }).on('ip link show', { stdout: 'b' });
  t.equal((await r.run('ip', ['link', 'show', 'x'])).stdout, 'b');
  t.equal((await r.run('ip', ['link', 'add'])).stdout, 'a');
  r.on('false', { code: 1 });
  await t.rejects(r.run('false', []));
  t.same(r.lines(), ['ip link show x', 'ip link add', 'false']);
});

t.test('iptables parsing', async (t) => {
  t.equal(parseIptablesVersion('iptables v1.8.9 (nf_tables)'), 'nft');
  t.equal(parseIptablesVersion('iptables v1.8.9 (legacy)'), 'legacy');
  t.equal(parseIptablesVersion('iptables v1.6.1'), 'legacy');
  t.same(parseSaveChains('# x\n*nat\n:PREROUTING ACCEPT [0:0]\n:TSK-A - [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [1:2]\nCOMMIT\n'), { nat: ['PREROUTING', 'TSK-A'], filter: ['INPUT'] });
});

t.test('ensureRule inserts only when missing; ensureFirstRule moves a rule to the top', async (t) => {
  const ipt = iptablesFor('nft');
  const j = { table: 'filter', chain: 'FORWARD', rule: ['-j', 'TSK-NP-FORWARD'] };
  const r = new RecordingRunner();
  await ensureRule(r, ipt, j);
  t.same(r.lines(), ['iptables-nft -w 5 -t filter -C FORWARD -j TSK-NP-FORWARD']);
  const r2 = new RecordingRunner().on('iptables-nft -w 5 -t filter -S', { stdout: '-P FORWARD ACCEPT\n-A FORWARD -j OTHER\n-A FORWARD -j TSK-NP-FORWARD\n' })
    .on('iptables-nft -w 5 -t filter -D', { code: 1 });
  await ensureFirstRule(r2, ipt, j);
  t.same(r2.lines().slice(-1), ['iptables-nft -w 5 -t filter -I FORWARD 1 -j TSK-NP-FORWARD']);
  const r3 = new RecordingRunner().on('iptables-nft -w 5 -t filter -S', { stdout: '-P FORWARD ACCEPT\n-A FORWARD -j TSK-NP-FORWARD\n' });
  await ensureFirstRule(r3, ipt, j);
  t.equal(r3.calls.length, 1, 'already first: nothing to do');
});
