// NetworkPolicy (networking.k8s.io/v1) enforcement for this node's pods as one pure function:
// (policies, pods, namespaces, node) → iptables-restore text for the filter table, chains TSK-NP-*.
//   TSK-NP-FORWARD (first rule of FORWARD): established traffic returns; packets from a local pod selected by an
//   egress policy go through TSK-NP-E-<pod>, packets to a local pod selected by an ingress policy through
//   TSK-NP-I-<pod>. A pod chain clears mark 0x10000, sets it for every allowing rule (TSK-NP-ALLOW), returns when
//   marked and REJECTs otherwise. ipBlock excepts go through a TSK-NP-B-<hash> chain that returns before marking.
import type { KubeObject } from '../../client/types.ts';
import { matchesSelector, type LabelSelector } from '../../controller/selector.ts';
import { shortHash } from '../proxy/names.ts';
import { compareText } from '../compare.ts';

export const NP_MARK = '0x10000/0x10000';

interface PodInfo { namespace: string; name: string; ip: string; labels: Record<string, string>; node?: string; ports: { name: string; port: number; protocol: string }[] }
interface Peer { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: { cidr: string; except?: string[] } }
interface PolicyPort { protocol?: string; port?: number | string; endPort?: number }
interface Rule { peers?: Peer[]; ports?: PolicyPort[] }

export interface NetpolInputs {
  policies: KubeObject[];
  pods: KubeObject[];
  namespaces: KubeObject[];
  nodeName: string;
}

function podInfo(p: KubeObject): PodInfo | undefined {
  const ip: string | undefined = p.status?.podIP;
  if (!ip || p.spec?.hostNetwork || ['Succeeded', 'Failed'].includes(p.status?.phase)) return undefined;
  const ports = ((p.spec?.containers ?? []) as { ports?: { name?: string; containerPort: number; protocol?: string }[] }[])
    .flatMap((c) => c.ports ?? []).map((x) => ({ name: x.name ?? '', port: x.containerPort, protocol: x.protocol ?? 'TCP' }));
  return { namespace: p.metadata.namespace ?? 'default', name: p.metadata.name!, ip, labels: p.metadata.labels ?? {}, node: p.spec?.nodeName, ports };
}

const isV4 = (s: string) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(s);

function policyTypes(pol: KubeObject): { ingress: boolean; egress: boolean } {
  const types: string[] | undefined = pol.spec?.policyTypes;
  if (types?.length) return { ingress: types.includes('Ingress'), egress: types.includes('Egress') };
  return { ingress: true, egress: Array.isArray(pol.spec?.egress) && pol.spec.egress.length > 0 };
}

/** Pods (other than by ipBlock) a peer selects, relative to the policy's namespace. */
function peerPods(peer: Peer, policyNs: string, pods: PodInfo[], nsLabels: Map<string, Record<string, string>>): PodInfo[] {
  return pods.filter((p) => {
    if (peer.namespaceSelector) {
      if (!matchesSelector(peer.namespaceSelector, nsLabels.get(p.namespace) ?? { 'kubernetes.io/metadata.name': p.namespace })) return false;
    } else if (p.namespace !== policyNs) return false;
    return peer.podSelector ? matchesSelector(peer.podSelector, p.labels) : true;
  });
}

/** iptables port matches for a rule's ports; named ports resolved against `target` (undefined when unresolvable). */
function portMatches(ports: PolicyPort[] | undefined, target: PodInfo | undefined): string[] {
  if (!ports?.length) return [''];
  const out: string[] = [];
  for (const p of ports) {
    const proto = (p.protocol ?? 'TCP').toLowerCase();
    if (p.port === undefined) { out.push(`-p ${proto}`); continue; }
    let num: number | undefined = typeof p.port === 'number' ? p.port : /^\d+$/.test(p.port) ? Number(p.port) : undefined;
    if (num === undefined) num = target?.ports.find((x) => x.name === p.port && x.protocol.toLowerCase() === proto)?.port;
    if (num === undefined) continue;
    out.push(`-p ${proto} -m ${proto} --dport ${num}${p.endPort ? `:${p.endPort}` : ''}`);
  }
  return out;
}

class Filter {
  chains: string[] = [];
  rules: string[] = [];
  chain(c: string) { if (!this.chains.includes(c)) this.chains.push(c); return c; }
  add(c: string, ...parts: string[]) { this.rules.push(['-A', c, ...parts.filter(Boolean)].join(' ')); }
}

function renderRules(f: Filter, chain: string, dir: 'ingress' | 'egress', local: PodInfo, rules: { ns: string; rule: Rule }[], ctx: { pods: PodInfo[]; nsLabels: Map<string, Record<string, string>> }) {
  const addr = dir === 'ingress' ? '-s' : '-d';
  for (const { ns, rule } of rules) {
    if (!rule.peers?.length) {
      for (const pm of portMatches(rule.ports, dir === 'ingress' ? local : undefined)) f.add(chain, pm, '-j TSK-NP-ALLOW');
      // Egress to any destination with a named port: resolve against every known pod.
      if (dir === 'egress' && rule.ports?.some((p) => typeof p.port === 'string' && !/^\d+$/.test(p.port))) {
        for (const peer of ctx.pods) for (const pm of portMatches(rule.ports.filter((p) => typeof p.port === 'string'), peer)) f.add(chain, `-d ${peer.ip}/32`, pm, '-j TSK-NP-ALLOW');
      }
      continue;
    }
    for (const peer of rule.peers) {
      if (peer.ipBlock) {
        if (!isV4(peer.ipBlock.cidr)) continue;
        let target = 'TSK-NP-ALLOW';
        const except = (peer.ipBlock.except ?? []).filter(isV4);
        if (except.length) {
          target = f.chain('TSK-NP-B-' + shortHash(`${chain}/${dir}/${peer.ipBlock.cidr}/${except.join(',')}`));
          for (const e of except) f.add(target, `${addr} ${e}`, '-j RETURN');
          f.add(target, '-j TSK-NP-ALLOW');
        }
        for (const pm of portMatches(rule.ports, dir === 'ingress' ? local : undefined)) f.add(chain, `${addr} ${peer.ipBlock.cidr}`, pm, `-j ${target}`);
        continue;
      }
      for (const p of peerPods(peer, ns, ctx.pods, ctx.nsLabels)) {
        for (const pm of portMatches(rule.ports, dir === 'ingress' ? local : p)) f.add(chain, `${addr} ${p.ip}/32`, pm, '-j TSK-NP-ALLOW');
      }
    }
  }
}

/** `existing`: chains now in the filter table; stale TSK-NP-[IEB]- ones are flushed and deleted. */
export function renderNetpol(inputs: NetpolInputs, existing: string[] = []): string {
  const pods = inputs.pods.map(podInfo).filter((p): p is PodInfo => !!p && isV4(p.ip));
  const nsLabels = new Map(inputs.namespaces.map((n) => [n.metadata.name!, { 'kubernetes.io/metadata.name': n.metadata.name!, ...(n.metadata.labels ?? {}) }]));
  const f = new Filter();
  f.chain('TSK-NP-FORWARD');
  f.chain('TSK-NP-ALLOW');
  f.add('TSK-NP-ALLOW', `-j MARK --set-xmark ${NP_MARK}`);
  f.add('TSK-NP-FORWARD', '-m conntrack --ctstate RELATED,ESTABLISHED', '-j RETURN');
  const local = pods.filter((p) => p.node === inputs.nodeName).sort((a, b) => compareText(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  const policies = [...inputs.policies].sort((a, b) => compareText(`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`));
  const jumps: string[] = [];
  for (const dir of ['egress', 'ingress'] as const) {
    for (const pod of local) {
      const selecting = policies.filter((pol) => pol.metadata.namespace === pod.namespace && policyTypes(pol)[dir] && matchesSelector(pol.spec?.podSelector ?? {}, pod.labels));
      if (!selecting.length) continue;
      const chain = f.chain(`TSK-NP-${dir === 'ingress' ? 'I' : 'E'}-${shortHash(`${pod.namespace}/${pod.name}`)}`);
      const c = `-m comment --comment "${pod.namespace}/${pod.name} ${dir}"`;
      f.add(chain, `-j MARK --set-xmark 0x0/${NP_MARK.split('/')[1]}`);
      const rules = selecting.flatMap((pol) => ((pol.spec?.[dir] ?? []) as Record<string, unknown>[]).map((r) => ({
        ns: pol.metadata.namespace!, rule: { peers: (dir === 'ingress' ? r.from : r.to) as Peer[] | undefined, ports: r.ports as PolicyPort[] | undefined },
      })));
      renderRules(f, chain, dir, pod, rules, { pods, nsLabels });
      f.add(chain, `-m mark --mark ${NP_MARK}`, '-j RETURN');
      f.add(chain, c, '-j REJECT --reject-with icmp-port-unreachable');
      jumps.push(`-A TSK-NP-FORWARD ${dir === 'ingress' ? '-d' : '-s'} ${pod.ip}/32 ${c} -j ${chain}`);
    }
  }
  const stale = existing.filter((c) => isDynamicNetpolChain(c) && !f.chains.includes(c)).sort();
  return [
    '*filter', ...[...f.chains, ...stale].map((c) => `:${c} - [0:0]`), ...f.rules.slice(0, 2), ...jumps, ...f.rules.slice(2),
    ...stale.map((c) => `-X ${c}`), 'COMMIT', '',
  ].join('\n');
}

export const isDynamicNetpolChain = (c: string) => /^TSK-NP-[IEB]-/.test(c);

export const NETPOL_JUMP = { table: 'filter', chain: 'FORWARD', rule: ['-m', 'comment', '--comment', 'tsk network policies', '-j', 'TSK-NP-FORWARD'] } as const;
