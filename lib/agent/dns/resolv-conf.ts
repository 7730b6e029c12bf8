// /etc/resolv.conf parsing and the upstreams the cluster DNS forwards to.
import { readFile } from 'node:fs/promises';

export interface ResolvConf {
  servers: string[];
  searches: string[];
  options: string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...vals] = line.split(/\s+/);
    if (key === 'nameserver' && vals[0]) out.servers.push(vals[0]);
    else if (key === 'search' || key === 'domain') out.searches = [...vals];
    else if (key === 'options') out.options.push(...vals);
  }
  return out;
}

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

/**
 * Upstream resolvers for forwarding: the host's nameservers minus loopback ones, which would loop back into a
 * local stub (systemd-resolved's 127.0.0.53). When only loopback ones remain, `fallback` (for example the
 * contents of /run/systemd/resolve/resolv.conf) is tried, then the public default.
 */
export function upstreamsFrom(hostText: string, fallbackText = '', last: string[] = ['8.8.8.8']): string[] {
  for (const text of [hostText, fallbackText]) {
    const servers = parseResolvConf(text).servers.filter((s) => !isLoopback(s));
    if (servers.length) return servers;
  }
  return last;
}

/** Reads the host's resolv.conf (for podDnsConfig's hostResolv and the forwarder's upstreams). */
export async function readHostResolv(path = '/etc/resolv.conf'): Promise<{ text: string; conf: ResolvConf }> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return { text, conf: parseResolvConf(text) };
}

/** The host's upstream resolvers, skipping loopback stubs (falls back to systemd-resolved's real servers). */
export async function hostUpstreams(): Promise<string[]> {
  const main = await readHostResolv('/etc/resolv.conf');
  const fallback = await readHostResolv('/run/systemd/resolve/resolv.conf');
  return upstreamsFrom(main.text, fallback.text);
}
