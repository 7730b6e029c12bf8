// IPv4 CIDR arithmetic for node IPAM, CNI config and routes. Pure.
export interface Cidr { base: number; bits: number }

export function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

const mask = (bits: number) => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

export function parseCidr(s: string): Cidr {
  const [ip, b] = s.split('/');
  const bits = Number(b ?? 32);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`bad prefix length in ${s}`);
  return { base: (ipToInt(ip!) & mask(bits)) >>> 0, bits };
}

export const formatCidr = (c: Cidr) => `${intToIp(c.base)}/${c.bits}`;

export const cidrContains = (c: Cidr, ip: string): boolean => ((ipToInt(ip) & mask(c.bits)) >>> 0) === c.base;

/** The n-th address inside a CIDR (1 = the first host, the usual gateway). */
export const nthAddress = (c: Cidr, n: number): string => intToIp((c.base + n) >>> 0);

export const isIPv4 = (s: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(s);
