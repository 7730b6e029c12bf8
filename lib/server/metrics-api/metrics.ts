// metrics.k8s.io/v1beta1 served by the API server itself: NodeMetrics and PodMetrics computed from every node's
// kubelet /stats/summary (CPU as the rate of cumulative usageCoreNanoSeconds between two samples, memory as
// workingSetBytes). Also the HPA controller's metrics source, through a client wrapper (metricsClient).
import type { Hono } from 'hono';
import { ApiError, core, type Client, type KubeObject, type ListQuery, type ResourceRef } from '../../client/types.ts';
import { logger } from '../../log/logger.ts';
import type { Env } from '../api/app.ts';
import type { ResourceStrategy } from '../resources/types.ts';
import { kubeletError, kubeletFor, kubeletGet, readBody, type KubeletCredentials } from '../streaming/kubelet-client.ts';

const log = logger('server/metrics');
export const GROUP = 'metrics.k8s.io';
export const VERSION = 'v1beta1';

interface Cpu { time: string; usageCoreNanoSeconds?: number }
interface Mem { time: string; workingSetBytes?: number }
interface Summary {
  node: { nodeName: string; cpu: Cpu; memory: Mem };
  pods: { podRef: { name: string; namespace: string; uid: string }; containers: { name: string; cpu?: Cpu; memory?: Mem }[] }[];
}
interface Sample { at: number; summary: Summary }

export interface NodeMetrics { kind: 'NodeMetrics'; apiVersion: string; metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> }; timestamp: string; window: string; usage: { cpu: string; memory: string } }
export interface PodMetricsObj { kind: 'PodMetrics'; apiVersion: string; metadata: { name: string; namespace: string; creationTimestamp: string; labels?: Record<string, string> }; timestamp: string; window: string; containers: { name: string; usage: { cpu: string; memory: string } }[] }

export const cpuQuantity = (nanocores: number) => `${Math.max(0, Math.round(nanocores))}n`;
export const memQuantity = (bytes: number) => `${Math.max(0, Math.round(bytes / 1024))}Ki`;

/** Cores used between two cumulative samples (ns of CPU time over ns of wall time), in nanocores. */
export function rateNanocores(a: Cpu | undefined, b: Cpu | undefined): number | undefined {
  if (a?.usageCoreNanoSeconds === undefined || b?.usageCoreNanoSeconds === undefined) return undefined;
  const dt = Date.parse(b.time) - Date.parse(a.time);
  if (!(dt > 0)) return undefined;
  return ((b.usageCoreNanoSeconds - a.usageCoreNanoSeconds) / (dt * 1e6)) * 1e9;
}

export function nodeMetricsFrom(prev: Sample, cur: Sample): { cpu: number; memory: number; window: number } | undefined {
  const cpu = rateNanocores(prev.summary.node.cpu, cur.summary.node.cpu);
  if (cpu === undefined) return undefined;
  return { cpu, memory: cur.summary.node.memory.workingSetBytes ?? 0, window: Date.parse(cur.summary.node.cpu.time) - Date.parse(prev.summary.node.cpu.time) };
}

export function podMetricsFrom(prev: Sample, cur: Sample): { namespace: string; name: string; containers: { name: string; cpu: number; memory: number }[] }[] {
  const before = new Map<string, Cpu | undefined>();
  for (const p of prev.summary.pods) for (const c of p.containers) before.set(`${p.podRef.uid}/${c.name}`, c.cpu);
  const out = [];
  for (const p of cur.summary.pods) {
    const containers = [];
    for (const c of p.containers) {
      const cpu = rateNanocores(before.get(`${p.podRef.uid}/${c.name}`), c.cpu);
      if (cpu === undefined) continue;
      containers.push({ name: c.name, cpu, memory: c.memory?.workingSetBytes ?? 0 });
    }
    if (containers.length) out.push({ namespace: p.podRef.namespace, name: p.podRef.name, containers });
  }
  return out;
}

/** Scrapes the kubelets: keeps the last two samples per node. */
export class MetricsCollector {
  readonly #deps: { client: Client; creds: KubeletCredentials };
  readonly #samples = new Map<string, Sample[]>();
  #inflight: Promise<void> | undefined;
  #lastScrape = 0;

  /** deps is read at each scrape (run.ts fills it once the API server has its certificates). */
  constructor(deps: { client: Client; creds: KubeletCredentials }) {
    this.#deps = deps;
  }

  async #scrapeNode(node: string): Promise<void> {
    const t = await kubeletFor(this.#deps.client, node);
    const res = await kubeletGet(t, this.#deps.creds, '/stats/summary', AbortSignal.timeout(10_000));
    if (res.statusCode !== 200) throw await kubeletError(res);
    const summary = JSON.parse(await readBody(res)) as Summary;
    const list = this.#samples.get(node) ?? [];
    list.push({ at: Date.now(), summary });
    while (list.length > 2) list.shift();
    this.#samples.set(node, list);
  }

  scrape(): Promise<void> {
    this.#inflight ??= (async () => {
      try {
        const nodes = (await this.#deps.client.list(core('nodes'))).items.map((n) => n.metadata.name!);
        for (const n of [...this.#samples.keys()]) if (!nodes.includes(n)) this.#samples.delete(n);
        await Promise.all(nodes.map((n) => this.#scrapeNode(n).catch((e) => log.debug('scrape failed', { node: n, err: String(e) }))));
        this.#lastScrape = Date.now();
      } finally {
        this.#inflight = undefined;
      }
    })();
    return this.#inflight;
  }

  /** Fresh enough samples: scrape when the last is older than maxAgeMs; make a second sample 1 s later when needed. */
  async ensure(maxAgeMs = 10_000): Promise<void> {
    if (Date.now() - this.#lastScrape > maxAgeMs) await this.scrape();
    if ([...this.#samples.values()].some((s) => s.length < 2)) {
      await new Promise((r) => setTimeout(r, 1000));
      await this.scrape();
    }
  }

  async nodes(): Promise<NodeMetrics[]> {
    await this.ensure();
    const out: NodeMetrics[] = [];
    for (const [name, s] of this.#samples) {
      if (s.length < 2) continue;
      const m = nodeMetricsFrom(s[0]!, s[1]!);
      if (!m) continue;
      out.push({
        kind: 'NodeMetrics', apiVersion: `${GROUP}/${VERSION}`, metadata: { name, creationTimestamp: new Date().toISOString() },
        timestamp: s[1]!.summary.node.cpu.time, window: `${Math.round(m.window / 1000)}s`, usage: { cpu: cpuQuantity(m.cpu), memory: memQuantity(m.memory) },
      });
    }
    return out.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  }

  async pods(namespace?: string): Promise<PodMetricsObj[]> {
    await this.ensure();
    const out: PodMetricsObj[] = [];
    for (const s of this.#samples.values()) {
      if (s.length < 2) continue;
      for (const p of podMetricsFrom(s[0]!, s[1]!)) {
        if (namespace && p.namespace !== namespace) continue;
        out.push({
          kind: 'PodMetrics', apiVersion: `${GROUP}/${VERSION}`, metadata: { name: p.name, namespace: p.namespace, creationTimestamp: new Date().toISOString() },
          timestamp: s[1]!.summary.node.cpu.time, window: `${Math.round((s[1]!.at - s[0]!.at) / 1000)}s`,
          containers: p.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.cpu), memory: memQuantity(c.memory) } })),
        });
      }
    }
    return out.sort((a, b) => (`${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}` ? -1 : 1));
  }
}

/** Catalog entries so discovery lists metrics.k8s.io/v1beta1 (the routes below answer before the generic handlers). */
export const metricsStrategies: ResourceStrategy[] = [
  { group: GROUP, versions: [VERSION], kind: 'NodeMetrics', plural: 'nodes', singular: '', namespaced: false, verbs: ['get', 'list'] },
  { group: GROUP, versions: [VERSION], kind: 'PodMetrics', plural: 'pods', singular: '', namespaced: true, verbs: ['get', 'list'] },
];

function selectorMatches(sel: string | undefined, labels: Record<string, string> = {}): boolean {
  if (!sel) return true;
  return sel.split(',').every((term) => {
    const m = /^\s*([^!=\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!m) return labels[term.trim()] !== undefined;
    return m[2] === '!=' ? labels[m[1]!] !== m[3] : labels[m[1]!] === m[3];
  });
}

async function withLabels<T extends { metadata: { name: string; namespace?: string; labels?: Record<string, string> } }>(client: Client, ref: ResourceRef, items: T[]): Promise<T[]> {
  const objs = await client.list(ref);
  const by = new Map(objs.items.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.labels]));
  return items.filter((i) => by.has(`${i.metadata.namespace ?? ''}/${i.metadata.name}`)).map((i) => ({ ...i, metadata: { ...i.metadata, labels: by.get(`${i.metadata.namespace ?? ''}/${i.metadata.name}`) ?? {} } }));
}

export function metricsRoutes(collector: MetricsCollector, deps: { client: Client }): (app: Hono<Env>) => void {
  const base = `/apis/${GROUP}/${VERSION}`;
  const list = (kind: string, items: unknown[]) => ({ kind, apiVersion: `${GROUP}/${VERSION}`, metadata: {}, items });
  const notFound = (what: string, name: string) => new ApiError({ status: 'Failure', code: 404, reason: 'NotFound', message: `${what}.${GROUP} "${name}" not found`, details: { name, group: GROUP, kind: what } });
  return (app) => {
    app.get(`${base}/nodes`, async (c) => {
      const items = await withLabels(deps.client, core('nodes'), await collector.nodes());
      return c.json(list('NodeMetricsList', items.filter((i) => selectorMatches(c.req.query('labelSelector'), i.metadata.labels))));
    });
    app.get(`${base}/nodes/:name`, async (c) => {
      const m = (await withLabels(deps.client, core('nodes'), await collector.nodes())).find((n) => n.metadata.name === c.req.param('name'));
      if (!m) throw notFound('nodes', c.req.param('name'));
      return c.json(m);
    });
    const pods = async (ns: string | undefined, sel: string | undefined) =>
      (await withLabels(deps.client, core('pods'), await collector.pods(ns))).filter((i) => selectorMatches(sel, i.metadata.labels));
    app.get(`${base}/pods`, async (c) => c.json(list('PodMetricsList', await pods(undefined, c.req.query('labelSelector')))));
    app.get(`${base}/namespaces/:ns/pods`, async (c) => c.json(list('PodMetricsList', await pods(c.req.param('ns'), c.req.query('labelSelector')))));
    app.get(`${base}/namespaces/:ns/pods/:name`, async (c) => {
      const m = (await pods(c.req.param('ns'), undefined)).find((p) => p.metadata.name === c.req.param('name'));
      if (!m) throw notFound('pods', c.req.param('name'));
      return c.json(m);
    });
  };
}

/** A client whose metrics.k8s.io lists come from the collector (the HPA controller's default metrics source uses it). */
export function metricsClient(client: Client, collector: MetricsCollector): Client {
  return new Proxy(client, {
    get(target, prop, recv) {
      if (prop === 'list') {
        return async (ref: ResourceRef, q?: ListQuery) => {
          if (ref.group !== GROUP) return target.list(ref, q);
          const items = ref.resource === 'nodes'
            ? await withLabels(client, core('nodes'), await collector.nodes())
            : await withLabels(client, core('pods'), await collector.pods(q?.namespace));
          return { apiVersion: `${GROUP}/${VERSION}`, kind: 'List', metadata: {}, items: items.filter((i) => selectorMatches(q?.labelSelector, i.metadata.labels)) as unknown as KubeObject[] };
        };
      }
      const v = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
