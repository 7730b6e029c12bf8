// The SQLite store with 1 KiB pages (the default for new databases) side by side with 4 KiB pages (the page size of
// databases created before): bytes appended to the WAL per small update (a Lease renewal), disk bytes written per
// 1 KiB-value compare-and-swap update (`write_bytes` of this process, as in bench:store), and create / update / get /
// list rates for 1 KiB and 4 KiB values, interleaved in rounds. Not part of the test suite.
//
//   npm run bench:pagesize [-- --n 1000]
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../lib/store/sqlite.ts';
import { printTable } from './bench-common.ts';

const { values: args } = parseArgs({ options: { n: { type: 'string', default: '1000' } } });
const N = Number(args.n);
const dir = mkdtempSync(join(tmpdir(), 'tsk-bench-pagesize-'));
try {
  // The page size is fixed by the first write to a database file; the store sets it on a new file only.
  const stores = [
    { name: '4 KiB pages', pageSize: 4096 },
    { name: '1 KiB pages', pageSize: 1024 },
  ].map((s) => {
    const path = join(dir, `p${s.pageSize}.db`);
    return { ...s, path, store: new SqliteStore({ path, pageSize: s.pageSize }) };
  });
  const enc = new TextEncoder();
  const lease = enc.encode(JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node-1', namespace: 'kube-node-lease', uid: 'x'.repeat(36), resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2026-01-01T00:00:00.000000Z' } }));
  const rows: (string | number)[][] = [['measure', ...stores.map((s) => s.name)]];
  const res = stores.map(() => ({} as Record<string, number>));
  for (const [i, s] of stores.entries()) {
    // Measured first, while the WAL only grows (before its first checkpoint).
    const { modRevision } = await s.store.create('/registry/leases/kube-node-lease/node-1', lease);
    let rev = modRevision;
    const wal = `${s.path}-wal`;
    const before = statSync(wal).size;
    for (let k = 0; k < 100; k++) rev = (await s.store.update('/registry/leases/kube-node-lease/node-1', lease, rev)).modRevision;
    res[i]!['WAL bytes per Lease update'] = (statSync(wal).size - before) / 100;
  }
  // Disk bytes per update: sequential compare-and-swap updates of 1 KiB values on 100 keys (bench:store's disk row),
  // write_bytes of this process around blocks of 250 updates, the page sizes interleaved block by block (the first
  // block of each is a warm-up).
  const writeBytes = () => Number(/write_bytes:\s+(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
  const v1k = enc.encode('v'.repeat(1024));
  const casRevs = stores.map(() => new Map<string, number>());
  for (const [i, s] of stores.entries()) for (let k = 0; k < 100; k++) casRevs[i]!.set(`/registry/cas/k${k}`, (await s.store.create(`/registry/cas/k${k}`, v1k)).modRevision);
  const casBytes = stores.map(() => 0);
  const BLOCK = 250, BLOCKS = Math.max(2, Math.ceil(N / BLOCK) + 1);
  for (let b = 0; b < BLOCKS; b++) {
    for (const [i, s] of stores.entries()) {
      const b0 = writeBytes();
      for (let k = 0; k < BLOCK; k++) {
        const key = `/registry/cas/k${(k * 13 + b) % 100}`;
        casRevs[i]!.set(key, (await s.store.update(key, v1k, casRevs[i]!.get(key)!)).modRevision);
      }
      if (b > 0) casBytes[i]! += writeBytes() - b0;
    }
  }
  for (const [i] of stores.entries()) res[i]!['disk bytes written per 1 KiB-value update'] = casBytes[i]! / ((BLOCKS - 1) * BLOCK);
  // Then background objects so that the tables have a realistic depth.
  for (const s of stores) for (let i = 0; i < 2000; i++) await s.store.create(`/registry/configmaps/bg/c${i}`, enc.encode('v'.repeat(1500)));
  for (const size of [1024, 4096]) {
    const v = enc.encode('v'.repeat(size));
    const spent = stores.map(() => ({ create: 0, update: 0, get: 0, list: 0 }));
    for (let round = 0; round < 5; round++) {
      for (const [i, s] of stores.entries()) {
        const per = N / 5;
        let t = performance.now();
        for (let k = 0; k < per; k++) await s.store.create(`/registry/configmaps/s${size}/r${round}k${k}`, v);
        spent[i]!.create += performance.now() - t;
        t = performance.now();
        for (let k = 0; k < per; k++) await s.store.update(`/registry/configmaps/s${size}/r${round}k${k}`, v, (await s.store.get(`/registry/configmaps/s${size}/r${round}k${k}`)).kv!.modRevision);
        spent[i]!.update += performance.now() - t;
        t = performance.now();
        for (let k = 0; k < per; k++) await s.store.get(`/registry/configmaps/s${size}/r${round}k${k}`);
        spent[i]!.get += performance.now() - t;
        t = performance.now();
        for (let k = 0; k < 5; k++) await s.store.list(`/registry/configmaps/s${size}/`);
        spent[i]!.list += performance.now() - t;
      }
    }
    for (const [i] of stores.entries()) {
      res[i]![`create/s, ${size} B values`] = N / (spent[i]!.create / 1000);
      res[i]![`get+update/s, ${size} B values`] = N / (spent[i]!.update / 1000);
      res[i]![`get/s, ${size} B values`] = N / (spent[i]!.get / 1000);
      res[i]![`list of up to ${N} ms, ${size} B values`] = spent[i]!.list / 25;
    }
  }
  for (const k of Object.keys(res[0]!)) rows.push([k, ...res.map((r) => r[k]!)]);
  rows[0]!.push('ratio');
  for (const r of rows.slice(1)) r.push(`${((r[2] as number) / (r[1] as number)).toFixed(2)}x`);
  printTable(rows);
  for (const s of stores) await s.store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
