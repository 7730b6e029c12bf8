// Store benchmark: the SQLite store (in-process) side by side with a real etcd on the same disk when /usr/bin/etcd
// exists (apt-get install etcd-server), talked to over gRPC with the etcd3 client (a devDependency; this file is its
// only user). Same durability: SQLite synchronous=FULL (fsync per commit), etcd's default fsync per batch.
// Not part of the test suite.
//
//   npm run bench:store [-- --n 2000 --clients 64 --watchers 100]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { SqliteStore } from '../lib/store/sqlite.ts';
import { openSqlite } from '../lib/store/sqlite-driver.ts';
import { ConflictError } from '../lib/store/types.ts';

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
  /** Compare-and-swap: writes when the key's mod revision is expected; returns the new or the current mod revision. */
  cas(key: string, expected: number): Promise<{ ok: boolean; rev: number }>;
  /** Opens a watch on prefix; resolves when it is established; onEvents gets the keys of the events. */
  watch(prefix: string, onEvents: (keys: string[]) => void): Promise<() => void>;
  rssKb(): number;
  /** write_bytes from /proc/<pid>/io of the process that does the writes. */
  writeBytes(): number;
  close(): Promise<void>;
}

type Results = Record<string, number>;

function writeBytesOf(pid: number): number {
  const m = /write_bytes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

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
  put('point gets/s (sequential)', await interleaved(targets, N * 4, async (t, round, n) => {
    for (let i = 0; i < n; i++) await t.get(`/seq/${(round + i) % ROUNDS}/${(i * 7919) % Math.floor(N / ROUNDS)}`);
  }));

  for (const t of targets) await pool(KEYS, CLIENTS, (i) => t.create(`/list/${String(i).padStart(6, '0')}`));
  for (const t of targets) await pool(1000, CLIENTS, (i) => t.create(`/list1k/${String(i).padStart(4, '0')}`));
  put('list of 1,000 keys ms', (await interleaved(targets, 40, async (t, _r, n) => {
    for (let i = 0; i < n; i++) if ((await t.list('/list1k/', 0)) !== 1000) throw new Error(`${t.name}: list of 1,000 keys`);
  })).map((v) => 1000 / v));
  put(`list 500 of ${KEYS} ms`, (await interleaved(targets, 20, async (t, _r, n) => {
    for (let i = 0; i < n; i++) await t.list('/list/', 500);
  })).map((v) => 1000 / v));
  put(`list all ${KEYS} ms`, (await interleaved(targets, ROUNDS, async (t) => void (await t.list('/list/', 0)))).map((v) => 1000 / v));

  // Compare-and-swap updates with 16 writers over 1,000 keys (mod revisions cached like an API server does; a
  // conflict re-reads the current revision from the failed transaction and retries).
  const CAS_KEYS = 1000;
  const revs = new Map<Target, number[]>();
  for (const t of targets) {
    const r: number[] = [];
    await pool(CAS_KEYS, CLIENTS, async (i) => {
      await t.create(`/cas/${i}`);
      r[i] = (await t.cas(`/cas/${i}`, 0)).rev; // unconditional first write gives the current revision
    });
    revs.set(t, r);
  }
  let conflicts = 0;
  const casOnce = async (t: Target, key: number) => {
    const r = revs.get(t)!;
    for (;;) {
      const res = await t.cas(`/cas/${key}`, r[key]!);
      r[key] = res.rev;
      if (res.ok) return;
      conflicts++;
    }
  };
  put('concurrent compare-and-swap updates/s (16 writers)', await interleaved(targets, N * 2, (t, round, n) =>
    pool(n, 16, (i) => casOnce(t, (round * 7919 + i * 31) % CAS_KEYS))));

  // Disk bytes written per 1,000 updates: the same sequential CAS workload, write_bytes of the writing process
  // around it (tsk: this process; etcd: its server), after a settle for background flushes on both sides.
  const bytes: number[] = [];
  for (const t of targets) {
    await new Promise((res) => setTimeout(res, 1500));
    const b0 = t.writeBytes();
    for (let i = 0; i < 1000; i++) await casOnce(t, (i * 13) % 100);
    await new Promise((res) => setTimeout(res, 1500));
    bytes.push((t.writeBytes() - b0) / 1024);
  }
  put('disk KiB written per 1,000 updates (1 KiB values)', bytes);

  // Watch delivery latency: 100 watchers on one prefix, sequential writes; latency from the write's start to each
  // watcher's receipt of its event.
  const LAT_EVENTS = 200;
  for (const [ti, t] of targets.entries()) {
    const sent = new Map<string, bigint>();
    const lat: number[] = [];
    const closers = await Promise.all(Array.from({ length: WATCHERS }, () => t.watch('/lat/', (keys) => {
      const now = process.hrtime.bigint();
      for (const k of keys) {
        const t0 = sent.get(k);
        if (t0 !== undefined) lat.push(Number(now - t0) / 1e6);
      }
    })));
    for (let i = 0; i < LAT_EVENTS; i++) {
      const key = `/lat/${i}`;
      sent.set(key, process.hrtime.bigint());
      await t.create(key);
      await new Promise((res) => setTimeout(res, 5));
    }
    const until = Date.now() + 60_000;
    while (lat.length < LAT_EVENTS * WATCHERS && Date.now() < until) await new Promise((res) => setTimeout(res, 10));
    for (const c of closers) c();
    r[ti]![`watch delivery latency p50 ms (${WATCHERS} watchers)`] = pct(lat, 50);
    r[ti]![`watch delivery latency p99 ms (${WATCHERS} watchers)`] = pct(lat, 99);
    if (lat.length < LAT_EVENTS * WATCHERS) process.stdout.write(`${t.name}: only ${lat.length} of ${LAT_EVENTS * WATCHERS} watch deliveries arrived\n`);
  }
  process.stdout.write(`(compare-and-swap conflicts retried: ${conflicts})\n`);

  const events = 500;
  const fan: number[] = [];
  for (const t of targets) {
    let seen = 0;
    const closers = await Promise.all(Array.from({ length: WATCHERS }, () => t.watch('/fan/', (keys) => (seen += keys.length))));
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
    cas: async () => ({ ok: true, rev: 0 }),
    watch: async () => () => undefined,
    rssKb: () => 0,
    writeBytes: () => 0,
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
        for await (const m of w) if ('events' in m) onEvents(m.events.map((e) => e.kv.key));
      })();
      return () => w.close();
    },
    async cas(key, expected) {
      try {
        return { ok: true, rev: (await store.update(key, VALUE, expected)).modRevision };
      } catch (err) {
        if (err instanceof ConflictError && err.current) return { ok: false, rev: err.current.modRevision };
        throw err;
      }
    },
    rssKb: () => process.memoryUsage().rss / 1024,
    writeBytes: () => writeBytesOf(process.pid),
    close: () => store.close(),
  };
}

// ---- etcd over gRPC (etcd3 client) ----

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
  const [clientPort, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const proc = spawn(bin, [
    '--name', 'bench', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `bench=${peerUrl}`,
    '--log-level', 'error', '--logger', 'zap', '--quota-backend-bytes', String(4 * 1024 ** 3),
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  const etcd = new Etcd3({ hosts: `127.0.0.1:${clientPort}` });
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      await etcd.get('/ping').string();
      break;
    } catch (err) {
      if (Date.now() > until || proc.exitCode !== null) {
        etcd.close();
        proc.kill('SIGKILL');
        throw new Error('etcd did not start', { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const value = Buffer.from(VALUE);
  const version = ((await (await fetch(`${url}/version`)).json()) as { etcdserver: string }).etcdserver;
  return {
    name: 'etcd ' + version,
    proc,
    async create(key) {
      const r = await etcd.if(key, 'Mod', '==', 0).then(etcd.put(key).value(value)).commit();
      if (!r.succeeded) throw new Error(`etcd create ${key}: already exists`);
    },
    async cas(key, expected) {
      if (expected === 0) {
        const r = await etcd.put(key).value(value).exec();
        return { ok: true, rev: Number(r.header.revision) };
      }
      const r = await etcd.if(key, 'Mod', '==', expected).then(etcd.put(key).value(value)).else(etcd.get(key)).commit();
      if (r.succeeded) return { ok: true, rev: Number(r.header.revision) };
      const kv = r.responses[0]?.response_range?.kvs[0];
      return { ok: false, rev: Number(kv?.mod_revision ?? 0) };
    },
    get: async (key) => void (await etcd.get(key).buffer()),
    async list(prefix, limit) {
      const q = etcd.getAll().prefix(prefix);
      return (await (limit ? q.limit(limit) : q).keys()).length;
    },
    async watch(prefix, onEvents) {
      const w = await etcd.watch().prefix(prefix).withPreviousKV().create();
      w.on('data', (res) => { if (res.events.length) onEvents(res.events.map((e) => e.kv.key.toString())); });
      return () => void w.cancel().catch(() => undefined);
    },
    rssKb() {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : 0;
    },
    writeBytes: () => writeBytesOf(proc.pid!),
    async close() {
      etcd.close();
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
  process.stdout.write('(for "ms", "KiB" and RSS rows lower is better; the tsk store runs in this process, etcd is reached over gRPC with the etcd3 client)\n');
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
    process.stdout.write(`etcd gRPC floor: ${(500 / (ms(t0) / 1000)).toFixed(0)} empty range requests/s (pid ${e.proc.pid})\n`);
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
