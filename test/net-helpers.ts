// Helpers for the network tests: network namespaces and veth pairs the test creates itself, and tiny TCP
// servers/clients run inside them with this same Node binary. Everything is removed in teardown.
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { execRunner } from '../lib/agent/exec/runner.ts';

export const shortId = () => randomBytes(3).toString('hex');

let netnsOk: boolean | undefined;

/** Root, iproute2, and a network namespace can really be created (and removed again). */
export const canUseNetns = async (): Promise<boolean> => {
  if (netnsOk !== undefined) return netnsOk;
  if (process.getuid?.() !== 0) return (netnsOk = false);
  const name = `tsk-t-${shortId()}-probe`;
  const r = await execRunner.run('ip', ['netns', 'add', name], { allowFail: true }).catch(() => ({ code: 1 }));
  if (r.code === 0) await execRunner.run('ip', ['netns', 'del', name], { allowFail: true });
  return (netnsOk = r.code === 0);
};

const sh = (args: string[]) => execRunner.run('ip', args);

export async function addNetns(name: string): Promise<void> {
  await sh(['netns', 'add', name]);
  await sh(['-n', name, 'link', 'set', 'lo', 'up']);
}

export async function delNetns(name: string): Promise<void> {
  await execRunner.run('ip', ['netns', 'del', name], { allowFail: true });
}

/**
 * One namespace `tsk-t-<id>-<suffix>` per suffix, and an AbortController for the test's components; on teardown the
 * controller is aborted, then the namespaces are deleted.
 */
export async function testNetns(t: { teardown(fn: () => unknown): void }, ...suffixes: string[]): Promise<{ id: string; names: string[]; ac: AbortController }> {
  const id = shortId();
  const names = suffixes.map((s) => `tsk-t-${id}-${s}`);
  const ac = new AbortController();
  t.teardown(async () => { ac.abort(); for (const n of names) await delNetns(n); });
  for (const n of names) await addNetns(n);
  return { id, names, ac };
}

/** Connects two namespaces with a veth pair and addresses each end (CIDR form). */
export async function veth(opts: { a: string; aIf: string; aAddr: string; b: string; bIf: string; bAddr: string }): Promise<void> {
  await sh(['link', 'add', opts.aIf, 'netns', opts.a, 'type', 'veth', 'peer', 'name', opts.bIf, 'netns', opts.b]);
  await sh(['-n', opts.a, 'addr', 'add', opts.aAddr, 'dev', opts.aIf]);
  await sh(['-n', opts.b, 'addr', 'add', opts.bAddr, 'dev', opts.bIf]);
  await sh(['-n', opts.a, 'link', 'set', opts.aIf, 'up']);
  await sh(['-n', opts.b, 'link', 'set', opts.bIf, 'up']);
}

/** Starts a TCP server in a netns answering "hello <remote address>"; resolves once it listens. */
export function tcpServer(netns: string, port: number): Promise<ChildProcess> {
  const code = `require('net').createServer(s=>{s.on('error',()=>{});s.end('hello '+s.remoteAddress)}).listen(${port},'0.0.0.0',()=>console.log('listening'))`;
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 30_000);
    child.stdout!.once('data', () => { clearTimeout(timer); resolve(child); });
    child.once('exit', (c) => { clearTimeout(timer); reject(new Error(`server exited ${c}`)); });
  });
}

let hasCurl: boolean | undefined;

/** Connects from inside a netns; resolves with the data received or "ERR <code>". curl is used when present
 * (much lighter than starting Node under load), otherwise this Node binary. */
export async function tcpGet(netns: string, host: string, port: number): Promise<string> {
  hasCurl ??= (await execRunner.run('curl', ['--version'], { allowFail: true }).catch(() => ({ code: 1 }))).code === 0;
  if (hasCurl) {
    const r = await execRunner.run('ip', ['netns', 'exec', netns, 'curl', '-s', '--max-time', '5', `telnet://${host}:${port}`], { allowFail: true, timeoutMs: 20_000 });
    if (r.code === 0) return r.stdout.trim();
    return r.code === 7 ? 'ERR ECONNREFUSED' : r.code === 28 ? 'ERR TIMEOUT' : `ERR curl ${r.code}`;
  }
  const code = `const s=require('net').connect({host:'${host}',port:${port},timeout:5000});let d='';` +
    `s.on('data',c=>d+=c);s.on('end',()=>{console.log(d);process.exit(0)});` +
    `s.on('timeout',()=>{console.log('ERR TIMEOUT');process.exit(0)});s.on('error',e=>{console.log('ERR '+e.code);process.exit(0)})`;
  const r = await execRunner.run('ip', ['netns', 'exec', netns, process.execPath, '-e', code], { allowFail: true, timeoutMs: 20_000 });
  return r.stdout.trim();
}
