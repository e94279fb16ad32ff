/** Minimal IP address arithmetic for "is this address on one of the container's networks". */

export interface Cidr {
  v6: boolean;
  base: bigint;
  bits: number;
}

function v4(text: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return BigInt(((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3]);
}

function v6(text: string): bigint | undefined {
  let s = text.replace(/%.*$/, '');
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const tail = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (tail) {
    const n = v4(tail[1]);
    if (n === undefined) return undefined;
    s = `${s.slice(0, -tail[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - head.length - rest.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? fill : 0).fill('0'), ...rest];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) + BigInt(parseInt(g, 16));
  }
  return n;
}

/** Parses an address; an IPv4-mapped IPv6 address counts as the IPv4 one. */
export function parseIp(text: string): { v6: boolean; n: bigint } | undefined {
  const a = v4(text);
  if (a !== undefined) return { v6: false, n: a };
  const b = v6(text);
  if (b === undefined) return undefined;
  if (b >> 32n === 0xffffn) return { v6: false, n: b & 0xffffffffn };
  return { v6: true, n: b };
}

export function cidr(address: string, bits: number): Cidr | undefined {
  const ip = parseIp(address);
  if (!ip || !Number.isInteger(bits) || bits < 0 || bits > (ip.v6 ? 128 : 32)) return undefined;
  const width = ip.v6 ? 128 : 32;
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
  return { v6: ip.v6, base: ip.n & mask, bits };
}

export function inCidr(address: string, c: Cidr): boolean {
  const ip = parseIp(address);
  if (!ip || ip.v6 !== c.v6) return false;
  const width = ip.v6 ? 128 : 32;
  const mask = c.bits === 0 ? 0n : ((1n << BigInt(c.bits)) - 1n) << BigInt(width - c.bits);
  return (ip.n & mask) === c.base;
}

/** Loopback, unspecified (0.0.0.0, ::): never "elsewhere". */
export function isLocalOnly(address: string): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  if (!ip.v6) return ip.n >> 24n === 127n || ip.n === 0n;
  return ip.n === 1n || ip.n === 0n;
}
