// Stale UDP conntrack entries: when a UDP service loses an endpoint, or gains its first one, existing conntrack
// entries would keep sending packets to the old place. staleConntrack computes the `conntrack -D` calls. Pure.
import type { ProxyServicePort, ProxyState } from './types.ts';
import { servicePortName } from './names.ts';

const key = (s: ProxyServicePort) => `${servicePortName(s)}/${s.protocol}`;

export function staleConntrack(prev: ProxyState | undefined, next: ProxyState): string[][] {
  if (!prev) return [];
  const before = new Map(prev.services.filter((s) => s.protocol === 'UDP').map((s) => [key(s), s]));
  const out: string[][] = [];
  const seen = new Set<string>();
  const add = (args: string[]) => {
    const k = args.join(' ');
    if (!seen.has(k)) { seen.add(k); out.push(args); }
  };
  const addrs = (s: ProxyServicePort) => [s.clusterIP, ...s.externalIPs, ...s.loadBalancerIPs].filter((x): x is string => !!x);
  for (const s of next.services.filter((x) => x.protocol === 'UDP')) {
    const old = before.get(key(s));
    before.delete(key(s));
    if (!old) continue;
    if (old.endpoints.length === 0 && s.endpoints.length > 0) {
      // Packets sent while there was no endpoint created entries to the service address itself.
      for (const ip of addrs(s)) add(['-D', '-p', 'udp', '--orig-dst', ip, '--orig-port-dst', String(s.port)]);
      if (s.nodePort) add(['-D', '-p', 'udp', '--orig-port-dst', String(s.nodePort)]);
    }
    const now = new Set(s.endpoints.map((e) => e.ip));
    for (const e of old.endpoints) if (!now.has(e.ip)) addGone(old, e.ip);
  }
  for (const old of before.values()) for (const e of old.endpoints) addGone(old, e.ip);
  return out;

  function addGone(s: ProxyServicePort, ip: string) {
    for (const a of addrs(s)) add(['-D', '-p', 'udp', '--orig-dst', a, '--dst-nat', ip]);
    if (s.nodePort) add(['-D', '-p', 'udp', '--orig-port-dst', String(s.nodePort), '--dst-nat', ip]);
  }
}
