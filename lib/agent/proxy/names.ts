// Chain names for services and endpoints: a stable hash so that names survive restarts (kube-proxy style).
import { createHash } from 'node:crypto';
import type { ProxyEndpoint, ProxyServicePort } from './types.ts';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** 16 characters of base32(sha256(s)): TSK-SVC- + 16 stays under iptables' 28-character limit. */
export function shortHash(s: string): string {
  return base32(createHash('sha256').update(s).digest()).slice(0, 16);
}

export function servicePortName(s: Pick<ProxyServicePort, 'namespace' | 'name' | 'portName'>): string {
  return `${s.namespace}/${s.name}${s.portName ? ':' + s.portName : ''}`;
}

const svcKey = (s: ProxyServicePort) => servicePortName(s) + '/' + s.protocol.toLowerCase();

export const svcChain = (s: ProxyServicePort) => 'TSK-SVC-' + shortHash(svcKey(s));
export const svlChain = (s: ProxyServicePort) => 'TSK-SVL-' + shortHash(svcKey(s));
export const extChain = (s: ProxyServicePort) => 'TSK-EXT-' + shortHash(svcKey(s));
export const fwChain = (s: ProxyServicePort) => 'TSK-FW-' + shortHash(svcKey(s));
export const sepChain = (s: ProxyServicePort, e: ProxyEndpoint) => 'TSK-SEP-' + shortHash(`${svcKey(s)}:${e.ip}:${e.port}`);

/** Chains the proxy creates per service/endpoint; stale ones are deleted at each sync. */
export const isDynamicProxyChain = (c: string) => /^TSK-(SVC|SVL|SEP|EXT|FW)-/.test(c);

/** Every chain the proxy owns (for cleanup). */
export const PROXY_FIXED_CHAINS = {
  nat: ['TSK-SERVICES', 'TSK-NODEPORTS', 'TSK-POSTROUTING', 'TSK-MARK-MASQ'],
  filter: ['TSK-SERVICES', 'TSK-EXTERNAL-SERVICES', 'TSK-FORWARD'],
} as const;

export const isProxyChain = (table: string, c: string): boolean =>
  isDynamicProxyChain(c) || (PROXY_FIXED_CHAINS as Record<string, readonly string[]>)[table]?.includes(c) === true;
