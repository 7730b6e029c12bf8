// Store benchmark: the SQLite store (in-process) side by side with a real etcd on the same disk when /usr/bin/etcd
// exists (apt-get install etcd-server), talked to over its HTTP/JSON gateway. Same durability: SQLite
// synchronous=FULL (fsync per commit), etcd's default fsync per batch. Not part of the test suite.
//
//   npm run bench:store [-- --n 2000 --clients 64 --watchers 100]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../lib/store/sqlite.ts';
import { openSqlite } from '../lib/store/sqlite-driver.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '64' },
    watchers: { type: 'string', default: '100' },
    keys: { type: 'string', default: '10000' },
    etcd: { type: 'string', default: '/usr/bin/etcd' },
  },
});
const N = Number(args.n);
const CLIENTS = Number(args.clients);
const WATCHERS = Number(args.watchers);
const KEYS = Number(args.keys);
const VALUE = new TextEncoder().encode('v'.repeat(1024));

interface Target {
  name: string;
  create(key: string): Promise<void>;
  get(key: string): Promise<void>;
  list(prefix: string, limit: number): Promise<number>;
  /** Opens a watch on prefix; resolves when it is established; onEvents gets event counts. */
  watch(prefix: string, onEvents: (n: number) => void): Promise<() => void>;
  rssKb(): number;
  close(): Promise<void>;
}

type Results = Record<string, number>;

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

async function pool(total: number, clients: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < total) await fn(next++);
  }));
}

const ROUNDS = 10;

/**
 * Runs one measurement in ROUNDS slices, alternating between the targets, so that a machine whose load changes
 * during the run affects every target alike. Returns operations per second per target.
 */
async function interleaved(targets: Target[], ops: number, slice: (t: Target, round: number, count: number) => Promise<void>): Promise<number[]> {
  const spent = targets.map(() => 0);
  const per = Math.max(1, Math.floor(ops / ROUNDS));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, t] of targets.entries()) {
      const t0 = process.hrtime.bigint();
      await slice(t, round, per);
      spent[i]! += ms(t0);
    }
  }
  return spent.map((m) => (per * ROUNDS) / (m / 1000));
}

async function runBench(targets: Target[]): Promise<Results[]> {
  const r: Results[] = targets.map(() => ({}));
  const put = (name: string, vals: number[]) => vals.forEach((v, i) => (r[i]![name] = v));

  const seq = await interleaved(targets, N, async (t, round, n) => {
    for (let i = 0; i < n; i++) await t.create(`/seq/${round}/${i}`);
  });
  put('sequential creates/s', seq);
  put('sequential create ms', seq.map((v) => 1000 / v));
  put(`concurrent creates/s (${CLIENTS} clients)`, await interleaved(targets, N * 4, (t, round, n) =>
    pool(n, CLIENTS, (i) => t.create(`/conc/${round}/${i}`))));
  put('sequential gets/s', await interleaved(targets, N * 4, async (t, round, n) => {
    for (let i = 0; i < n; i++) await t.get(`/seq/${(round + i) % ROUNDS}/${(i * 7919) % Math.floor(N / ROUNDS)}`);
  }));

  for (const t of targets) await pool(KEYS, CLIENTS, (i) => t.create(`/list/${String(i).padStart(6, '0')}`));
  put(`list 500 of ${KEYS} ms`, (await interleaved(targets, 20, async (t, _r, n) => {
    for (let i = 0; i < n; i++) await t.list('/list/', 500);
  })).map((v) => 1000 / v));
  put(`list all ${KEYS} ms`, (await interleaved(targets, ROUNDS, async (t) => void (await t.list('/list/', 0)))).map((v) => 1000 / v));

  const events = 500;
  const fan: number[] = [];
  for (const t of targets) {
    let seen = 0;
    const closers = await Promise.all(Array.from({ length: WATCHERS }, () => t.watch('/fan/', (n) => (seen += n))));
    const t0 = process.hrtime.bigint();
    await pool(events, 16, (i) => t.create(`/fan/${i}`));
    const until = Date.now() + 120_000;
    while (seen < events * WATCHERS && Date.now() < until) await new Promise((res) => setTimeout(res, 2));
    fan.push(seen / (ms(t0) / 1000));
    for (const c of closers) c();
  }
  put(`watch fan-out: ${events} events x ${WATCHERS} watchers, deliveries/s`, fan);
  put('RSS MB (tsk: this whole bench process)', targets.map((t) => t.rssKb() / 1024));
  return r;
}

/** The disk's floor as a target: plain single-row SQLite commits (WAL, synchronous=FULL), no store around them. */
function rawSqliteTarget(dir: string): Target {
  const db = openSqlite(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)');
  const ins = db.prepare('INSERT INTO t VALUES (?, ?)');
  return {
    name: 'raw sqlite',
    create: async (key) => void ins.run(key, VALUE),
    get: async () => undefined,
    list: async () => 0,
    watch: async () => () => undefined,
    rssKb: () => 0,
    close: async () => db.close(),
  };
}

// ---- the SQLite store, in process ----

function sqliteTarget(dir: string): Target {
  const store = new SqliteStore({ path: join(dir, 'state.db') });
  return {
    name: 'tsk sqlite',
    create: async (key) => void (await store.create(key, VALUE)),
    get: async (key) => void (await store.get(key)),
    list: async (prefix, limit) => (await store.list(prefix, { limit })).items.length,
    async watch(prefix, onEvents) {
      const w = store.watch(prefix, 0);
      void (async () => {
        for await (const m of w) if ('events' in m) onEvents(m.events.length);
      })();
      return () => w.close();
    },
    rssKb: () => process.memoryUsage().rss / 1024,
    close: () => store.close(),
  };
}

// ---- etcd over its HTTP/JSON gateway ----

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function etcdTarget(bin: string, dir: string): Promise<Target & { proc: ChildProcess }> {
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const proc = spawn(bin, [
    '--name', 'bench', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `bench=${peerUrl}`,
    '--log-level', 'error', '--logger', 'zap', '--quota-backend-bytes', String(4 * 1024 ** 3),
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  const post = async (path: string, body: unknown) => {
    const res = await fetch(url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      await post('/v3/kv/range', { key: b64('/ping') });
      break;
    } catch (err) {
      if (Date.now() > until || proc.exitCode !== null) throw new Error('etcd did not start', { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const value = Buffer.from(VALUE).toString('base64');
  return {
    name: 'etcd ' + (await (await fetch(`${url}/version`)).json() as { etcdserver: string }).etcdserver,
    proc,
    async create(key) {
      const k = b64(key);
      const r = await post('/v3/kv/txn', {
        compare: [{ key: k, target: 'MOD', result: 'EQUAL', mod_revision: '0' }],
        success: [{ request_put: { key: k, value } }],
        failure: [{ request_range: { key: k } }],
      });
      if (!r.succeeded) throw new Error(`etcd create ${key}: already exists`);
    },
    get: async (key) => void (await post('/v3/kv/range', { key: b64(key) })),
    async list(prefix, limit) {
      const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
      const r = await post('/v3/kv/range', { key: b64(prefix), range_end: b64(end), limit: String(limit) });
      return (r.kvs as unknown[] | undefined)?.length ?? 0;
    },
    async watch(prefix, onEvents) {
      const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
      const ac = new AbortController();
      const res = await fetch(`${url}/v3/watch`, {
        method: 'POST', signal: ac.signal, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ create_request: { key: b64(prefix), range_end: b64(end), prev_kv: true } }),
      });
      const reader = res.body!.getReader();
      let created: () => void = () => {};
      const ready = new Promise<void>((r) => (created = r));
      void (async () => {
        const dec = new TextDecoder();
        let buf = '';
        try {
          for (;;) {
            const { value: chunk, done } = await reader.read();
            if (done) return;
            buf += dec.decode(chunk, { stream: true });
            let nl;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (!line.trim()) continue;
              const msg = JSON.parse(line) as { result?: { created?: boolean; events?: unknown[] } };
              if (msg.result?.created) created();
              if (msg.result?.events) onEvents(msg.result.events.length);
            }
          }
        } catch {
          // aborted
        }
      })();
      await ready;
      return () => ac.abort();
    },
    rssKb() {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : 0;
    },
    async close() {
      proc.kill('SIGKILL');
      if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
    },
  };
}

function print(rows: Results[], names: string[]): void {
  const keys = Object.keys(rows[0]!);
  const w = Math.max(...keys.map((k) => k.length));
  process.stdout.write(`${''.padEnd(w)}  ${names.map((n) => n.padStart(14)).join('  ')}${rows.length > 1 ? '   ratio tsk/etcd' : ''}\n`);
  for (const k of keys) {
    const vals = rows.map((r) => r[k] ?? NaN);
    const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2)).padStart(14);
    const ratio = vals.length > 1 ? `   ${(vals[0]! / vals[1]!).toFixed(2)}x` : '';
    process.stdout.write(`${k.padEnd(w)}  ${vals.map(fmt).join('  ')}${ratio}\n`);
  }
  process.stdout.write('(for "ms" rows and RSS lower is better; the tsk store runs in this process, etcd is reached over HTTP/JSON)\n');
}

const dir = mkdtempSync(join(tmpdir(), 'tsk-bench-store-'));
const targets: Target[] = [];
try {
  targets.push(sqliteTarget(dir));
  if (existsSync(args.etcd)) {
    const e = await etcdTarget(args.etcd, dir);
    targets.push(e);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 500; i++) await e.get('/floor');
    process.stdout.write(`etcd HTTP/JSON floor: ${(500 / (ms(t0) / 1000)).toFixed(0)} empty range requests/s (pid ${e.proc.pid})\n`);
  } else {
    process.stdout.write(`etcd is absent (${args.etcd}); apt-get install -y etcd-server to compare\n`);
  }
  process.stdout.write(`benchmarking ${targets.map((t) => t.name).join(' and ')} (n=${N}, clients=${CLIENTS}, watchers=${WATCHERS}, keys=${KEYS}) in ${dir}, rounds interleaved\n`);
  const raw = rawSqliteTarget(dir);
  const [floor, store] = await interleaved([raw, targets[0]!], Math.min(N, 1000), async (t, round, n) => {
    for (let i = 0; i < n; i++) await t.create(`/floor/${round}/${i}`);
  });
  await raw.close();
  print(await runBench(targets), targets.map((t) => t.name));
  process.stdout.write(`disk floor: ${floor!.toFixed(0)} plain single-row SQLite commits/s (WAL, synchronous=FULL); the store, interleaved with it: ${store!.toFixed(0)} sequential creates/s\n`);
} finally {
  for (const t of targets) await t.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
