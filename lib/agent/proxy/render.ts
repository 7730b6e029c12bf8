// renderRules: the whole service proxy as one pure function from ProxyState to iptables-restore text.
// Only TSK- chains are declared, so the text is applied with `iptables-restore --noflush` and touches nothing else.
import { MASQ_MARK, type ProxyEndpoint, type ProxyServicePort, type ProxyState } from './types.ts';
import { extChain, fwChain, isDynamicProxyChain, PROXY_FIXED_CHAINS, sepChain, servicePortName, svcChain, svlChain } from './names.ts';
import { compareText } from '../compare.ts';

export interface ExistingChains {
  nat?: string[];
  filter?: string[];
}

/** One table's rules as rendered: chains in declaration order, rules in the order they were added. */
export class Table {
  readonly chains: string[] = [];
  readonly #chainSet = new Set<string>();
  readonly rules: { chain: string; line: string }[] = [];
  readonly #byChain = new Map<string, string[]>();
  chain(name: string): string {
    if (!this.#chainSet.has(name)) {
      this.#chainSet.add(name);
      this.chains.push(name);
    }
    return name;
  }
  add(chain: string, ...parts: string[]): void {
    const line = ['-A', chain, ...parts.filter(Boolean)].join(' ');
    this.rules.push({ chain, line });
    const list = this.#byChain.get(chain);
    if (list) list.push(line);
    else this.#byChain.set(chain, [line]);
  }
  /** Each declared chain's rules as one string: what a partial sync compares with the last applied set. */
  signatures(): Map<string, string> {
    return new Map(this.chains.map((c) => [c, this.#byChain.get(c)?.join('\n') ?? '']));
  }
  /** The whole table; chains in `existing` that are no longer wanted are flushed and deleted. */
  text(name: string, existing: string[] = []): string {
    const stale = existing.filter((c) => isDynamicProxyChain(c) && !this.#chainSet.has(c)).sort();
    return this.#lines(name, this.chains, stale, this.rules.map((r) => r.line));
  }
  /** Only the chains whose rules differ from `applied` (and the deletion of chains no longer wanted), as
   * kube-proxy's partial sync: unchanged chains are not named, so iptables-restore --noflush leaves them alone.
   * Empty when nothing changed. */
  partialText(name: string, applied: Map<string, string>): string {
    const now = this.signatures();
    const changed = new Set(this.chains.filter((c) => applied.get(c) !== now.get(c)));
    const gone = [...applied.keys()].filter((c) => !this.#chainSet.has(c)).sort();
    if (!changed.size && !gone.length) return '';
    return this.#lines(name, [...changed], gone, this.rules.filter((r) => changed.has(r.chain)).map((r) => r.line));
  }
  #lines(name: string, declared: string[], stale: string[], rules: string[]): string {
    const lines = [`*${name}`];
    for (const c of [...declared, ...stale]) lines.push(`:${c} - [0:0]`);
    lines.push(...rules);
    for (const c of stale) lines.push(`-X ${c}`);
    lines.push('COMMIT');
    return lines.join('\n');
  }
}

const comment = (text: string) => `-m comment --comment "${text}"`;
const proto = (s: ProxyServicePort) => s.protocol.toLowerCase();
const portMatch = (s: ProxyServicePort, port: number) => `-p ${proto(s)} -m ${proto(s)} --dport ${port}`;
const host = (ip: string) => `${ip}/32`;
const isV4 = (ip: string | undefined): ip is string => !!ip && /^\d+\.\d+\.\d+\.\d+$/.test(ip);

/** The probability that endpoint i of n is picked given that 0..i-1 were not: uniform overall. */
export function probability(i: number, n: number): string {
  return (1 / (n - i)).toFixed(10);
}

function renderFixed(nat: Table, filter: Table): void {
  for (const c of PROXY_FIXED_CHAINS.nat) nat.chain(c);
  for (const c of PROXY_FIXED_CHAINS.filter) filter.chain(c);
  nat.add('TSK-MARK-MASQ', '-j MARK --or-mark 0x4000');
  nat.add('TSK-POSTROUTING', `-m mark ! --mark ${MASQ_MARK}`, '-j RETURN');
  nat.add('TSK-POSTROUTING', '-j MARK --xor-mark 0x4000');
  nat.add('TSK-POSTROUTING', comment('tsk service traffic requiring SNAT'), '-j MASQUERADE --random-fully');
  filter.add('TSK-FORWARD', '-m conntrack --ctstate INVALID', '-j DROP');
  filter.add('TSK-FORWARD', comment('tsk forwarding rules'), `-m mark --mark ${MASQ_MARK}`, '-j ACCEPT');
  filter.add('TSK-FORWARD', comment('tsk forwarding conntrack rule'), '-m conntrack --ctstate RELATED,ESTABLISHED', '-j ACCEPT');
}

/** A chain that load-balances over endpoints (with ClientIP affinity first when asked). */
function renderBalancer(nat: Table, s: ProxyServicePort, chain: string, eps: ProxyEndpoint[]): void {
  const c = comment(servicePortName(s));
  if (s.affinitySeconds !== undefined) {
    for (const e of eps) {
      const sep = sepChain(s, e);
      nat.add(chain, c, `-m recent --name ${sep} --mask 255.255.255.255 --rsource --rcheck --seconds ${s.affinitySeconds} --reap`, `-j ${sep}`);
    }
  }
  eps.forEach((e, i) => {
    const sep = sepChain(s, e);
    const stat = i < eps.length - 1 ? `-m statistic --mode random --probability ${probability(i, eps.length)}` : '';
    nat.add(chain, comment(`${servicePortName(s)} -> ${e.ip}:${e.port}`), stat, `-j ${sep}`);
  });
}

function renderEndpoint(nat: Table, s: ProxyServicePort, e: ProxyEndpoint): void {
  const sep = nat.chain(sepChain(s, e));
  const c = comment(servicePortName(s));
  nat.add(sep, `-s ${host(e.ip)}`, c, '-j TSK-MARK-MASQ');
  const recent = s.affinitySeconds !== undefined ? `-m recent --name ${sep} --mask 255.255.255.255 --rsource --set` : '';
  nat.add(sep, `-p ${proto(s)}`, c, recent, `-m ${proto(s)} -j DNAT --to-destination ${e.ip}:${e.port}`);
}

function renderService(nat: Table, filter: Table, s: ProxyServicePort, cidr: string | undefined): void {
  const name = servicePortName(s);
  const local = s.endpoints.filter((e) => e.local);
  const all = s.endpoints;
  const needSvl = local.length > 0 && (s.internalLocal || s.externalLocal);
  const externalAddrs = [...s.externalIPs, ...s.loadBalancerIPs].filter(isV4);
  const hasExternal = !!s.nodePort || externalAddrs.length > 0;
  const svc = all.length && (hasExternal || !s.internalLocal) ? nat.chain(svcChain(s)) : '';
  const svl = needSvl ? nat.chain(svlChain(s)) : '';
  const clusterTarget = s.internalLocal ? svl : svc;

  if (isV4(s.clusterIP)) {
    const match = `-d ${host(s.clusterIP)} ${portMatch(s, s.port)}`;
    if (clusterTarget) {
      nat.add('TSK-SERVICES', `-d ${host(s.clusterIP)}`, `-p ${proto(s)}`, comment(`${name} cluster IP`), `-m ${proto(s)} --dport ${s.port}`, `-j ${clusterTarget}`);
      if (cidr) nat.add(clusterTarget, `! -s ${cidr}`, match, comment(`${name} cluster IP`), '-j TSK-MARK-MASQ');
    } else {
      const why = all.length ? 'has no local endpoints' : 'has no endpoints';
      filter.add('TSK-SERVICES', `-d ${host(s.clusterIP)}`, `-p ${proto(s)}`, comment(`${name} ${why}`), `-m ${proto(s)} --dport ${s.port}`, '-j REJECT --reject-with icmp-port-unreachable');
    }
  }
  if (svc) renderBalancer(nat, s, svc, all);
  if (svl) renderBalancer(nat, s, svl, local);
  for (const e of all) renderEndpoint(nat, s, e);

  if (!hasExternal) return;
  if (!all.length) {
    const c = comment(`${name} has no endpoints`);
    if (s.nodePort) filter.add('TSK-EXTERNAL-SERVICES', c, '-m addrtype --dst-type LOCAL', portMatch(s, s.nodePort), '-j REJECT --reject-with icmp-port-unreachable');
    for (const ip of externalAddrs) filter.add('TSK-EXTERNAL-SERVICES', `-d ${host(ip)}`, c, portMatch(s, s.port), '-j REJECT --reject-with icmp-port-unreachable');
    return;
  }
  const ext = nat.chain(extChain(s));
  if (s.externalLocal) {
    if (cidr) nat.add(ext, `-s ${cidr}`, comment(`pod traffic for ${name} external destinations`), `-j ${svc}`);
    nat.add(ext, comment(`masquerade LOCAL traffic for ${name} external destinations`), '-m addrtype --src-type LOCAL', '-j TSK-MARK-MASQ');
    nat.add(ext, comment(`route LOCAL traffic for ${name} external destinations`), '-m addrtype --src-type LOCAL', `-j ${svc}`);
    if (svl) nat.add(ext, `-j ${svl}`);
    else {
      const c = comment(`${name} has no local endpoints`);
      if (s.nodePort) filter.add('TSK-EXTERNAL-SERVICES', c, '-m addrtype --dst-type LOCAL', portMatch(s, s.nodePort), '-j DROP');
      for (const ip of externalAddrs) filter.add('TSK-EXTERNAL-SERVICES', `-d ${host(ip)}`, c, portMatch(s, s.port), '-j DROP');
    }
  } else {
    nat.add(ext, comment(`masquerade traffic for ${name} external destinations`), '-j TSK-MARK-MASQ');
    nat.add(ext, `-j ${svc}`);
  }
  for (const ip of s.externalIPs.filter(isV4)) {
    nat.add('TSK-SERVICES', `-d ${host(ip)}`, `-p ${proto(s)}`, comment(`${name} external IP`), `-m ${proto(s)} --dport ${s.port}`, `-j ${ext}`);
  }
  const lbIPs = s.loadBalancerIPs.filter(isV4);
  const ranges = (s.sourceRanges ?? []).filter((r) => isV4(r.split('/')[0]));
  const lbTarget = lbIPs.length && ranges.length ? nat.chain(fwChain(s)) : ext;
  for (const ip of lbIPs) {
    nat.add('TSK-SERVICES', `-d ${host(ip)}`, `-p ${proto(s)}`, comment(`${name} loadbalancer IP`), `-m ${proto(s)} --dport ${s.port}`, `-j ${lbTarget}`);
  }
  if (lbTarget !== ext) {
    // Allowed sources continue to the service; the rest is not translated and dropped in the filter table.
    for (const r of ranges) nat.add(lbTarget, `-s ${r}`, comment(`${name} loadbalancer IP`), `-j ${ext}`);
    for (const ip of lbIPs) filter.add('TSK-EXTERNAL-SERVICES', `-d ${host(ip)}`, comment(`${name} traffic not accepted by TSK-FW`), portMatch(s, s.port), '-j DROP');
  }
  if (s.nodePort) nat.add('TSK-NODEPORTS', `-p ${proto(s)}`, comment(name), `-m ${proto(s)} --dport ${s.nodePort}`, `-j ${ext}`);
}

const order = (a: ProxyServicePort, b: ProxyServicePort) =>
  compareText(servicePortName(a), servicePortName(b)) || compareText(a.protocol, b.protocol);

export interface ProxyTables {
  filter: Table;
  nat: Table;
}

/** The complete TSK- rule set, per table. */
export function renderTables(state: ProxyState): ProxyTables {
  const nat = new Table();
  const filter = new Table();
  renderFixed(nat, filter);
  for (const s of [...state.services].sort(order)) renderService(nat, filter, s, state.clusterCidr);
  nat.add('TSK-SERVICES', comment('tsk service nodeports; NOTE: this must be the last rule in this chain'), '-m addrtype --dst-type LOCAL', '! -d 127.0.0.0/8', '-j TSK-NODEPORTS');
  return { filter, nat };
}

/** Renders the complete TSK- rule set; chains in `existing` that are no longer wanted are flushed and deleted. */
export function renderRules(state: ProxyState, existing: ExistingChains = {}): string {
  const { filter, nat } = renderTables(state);
  return `${filter.text('filter', existing.filter)}\n${nat.text('nat', existing.nat)}\n`;
}

/** The restore text that turns the `applied` rule set into `next`: changed chains only; '' when nothing changed. */
export function renderChanges(next: ProxyTables, applied: { filter: Map<string, string>; nat: Map<string, string> }): string {
  const parts = [next.filter.partialText('filter', applied.filter), next.nat.partialText('nat', applied.nat)].filter(Boolean);
  return parts.length ? parts.join('\n') + '\n' : '';
}

/** Jump rules from the built-in chains into ours; installed once by the applier, removed by cleanup. */
export const PROXY_JUMPS = [
  { table: 'nat', chain: 'PREROUTING', rule: ['-m', 'comment', '--comment', 'tsk service portals', '-j', 'TSK-SERVICES'] },
  { table: 'nat', chain: 'OUTPUT', rule: ['-m', 'comment', '--comment', 'tsk service portals', '-j', 'TSK-SERVICES'] },
  { table: 'nat', chain: 'POSTROUTING', rule: ['-m', 'comment', '--comment', 'tsk postrouting rules', '-j', 'TSK-POSTROUTING'] },
  { table: 'filter', chain: 'INPUT', rule: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'tsk service portals', '-j', 'TSK-SERVICES'] },
  { table: 'filter', chain: 'INPUT', rule: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'tsk externally-visible service portals', '-j', 'TSK-EXTERNAL-SERVICES'] },
  { table: 'filter', chain: 'FORWARD', rule: ['-m', 'comment', '--comment', 'tsk forwarding rules', '-j', 'TSK-FORWARD'] },
  { table: 'filter', chain: 'FORWARD', rule: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'tsk service portals', '-j', 'TSK-SERVICES'] },
  { table: 'filter', chain: 'FORWARD', rule: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'tsk externally-visible service portals', '-j', 'TSK-EXTERNAL-SERVICES'] },
  { table: 'filter', chain: 'OUTPUT', rule: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'tsk service portals', '-j', 'TSK-SERVICES'] },
] as const;
