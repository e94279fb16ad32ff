/**
 * Pure decoders for /proc/<pid>/net/{dev,route,arp,fib_trie,if_inet6} (evidence-formats.md:
 * net/<phase>/interfaces.json, routes.json, arp.json). No file access here.
 */
import { formatIPv6, hexToIPv4 } from './procnet.js';

const RX = [
  'bytes',
  'packets',
  'errs',
  'drop',
  'fifo',
  'frame',
  'compressed',
  'multicast',
] as const;
const TX = ['bytes', 'packets', 'errs', 'drop', 'fifo', 'colls', 'carrier', 'compressed'] as const;

export interface DevCounters {
  name: string;
  rx: Record<(typeof RX)[number], number>;
  tx: Record<(typeof TX)[number], number>;
}

/** /proc/net/dev: two header lines, then `name: 16 counters` (large counters may touch the colon). */
export function parseDev(text: string): DevCounters[] {
  const out: DevCounters[] = [];
  for (const line of text.split('\n')) {
    const i = line.lastIndexOf(':');
    if (i < 0 || line.includes('|')) continue;
    const nums = line
      .slice(i + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (nums.length < 16 || nums.some((n) => !Number.isFinite(n))) continue;
    const rx = Object.fromEntries(RX.map((k, j) => [k, nums[j]])) as DevCounters['rx'];
    const tx = Object.fromEntries(TX.map((k, j) => [k, nums[8 + j]])) as DevCounters['tx'];
    out.push({ name: line.slice(0, i).trim(), rx, tx });
  }
  return out;
}

const ROUTE_FLAGS: [number, string][] = [
  [0x1, 'U'],
  [0x2, 'G'],
  [0x4, 'H'],
  [0x8, 'R'],
  [0x10, 'D'],
  [0x20, 'M'],
  [0x200, '!'],
];

export interface Route {
  iface: string;
  destination: string;
  gateway: string;
  mask: string;
  prefixLength: number;
  flags: string;
  flagsHex: string;
  metric: number;
  mtu: number;
  window: number;
  irtt: number;
}

function maskBits(mask: string): number {
  return mask
    .split('.')
    .reduce((n, octet) => n + Number(octet).toString(2).replace(/0/g, '').length, 0);
}

/** /proc/net/route (IPv4 table, addresses in little-endian hex). */
export function parseRoutes(text: string): Route[] {
  const out: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 11 || !/^[0-9A-Fa-f]{8}$/.test(f[1])) continue;
    const flags = parseInt(f[3], 16);
    const mask = hexToIPv4(f[7]);
    out.push({
      iface: f[0],
      destination: hexToIPv4(f[1]),
      gateway: hexToIPv4(f[2]),
      mask,
      prefixLength: maskBits(mask),
      flags: ROUTE_FLAGS.filter(([bit]) => flags & bit)
        .map(([, c]) => c)
        .join(''),
      flagsHex: f[3],
      metric: Number(f[6]),
      mtu: Number(f[8]),
      window: Number(f[9]),
      irtt: Number(f[10]),
    });
  }
  return out;
}

export interface ArpEntry {
  ip: string;
  hwType: string;
  flags: string;
  mac: string;
  mask: string;
  device: string;
  /** ATF_COM: the MAC is resolved. */
  complete: boolean;
}

/** /proc/net/arp */
export function parseArp(text: string): ArpEntry[] {
  const out: ArpEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    out.push({
      ip: f[0],
      hwType: f[1],
      flags: f[2],
      mac: f[3],
      mask: f[4],
      device: f[5],
      complete: (parseInt(f[2], 16) & 0x2) !== 0,
    });
  }
  return out;
}

export interface Inet6Address {
  address: string;
  ifindex: number;
  prefixLength: number;
  scope: string;
  flags: string;
  device: string;
}

const SCOPES: Record<number, string> = {
  0x00: 'global',
  0x10: 'host',
  0x20: 'link',
  0x40: 'site',
  0x80: 'compat',
};

/** /proc/net/if_inet6: the address is plain network-order hex (unlike the socket tables). */
export function parseIfInet6(text: string): Inet6Address[] {
  const out: Inet6Address[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^[0-9a-fA-F]{32}$/.test(f[0])) continue;
    const bytes = (f[0].match(/../g) ?? []).map((b) => parseInt(b, 16));
    const scope = parseInt(f[3], 16);
    out.push({
      address: formatIPv6(bytes),
      ifindex: parseInt(f[1], 16),
      prefixLength: parseInt(f[2], 16),
      scope: SCOPES[scope] ?? `0x${f[3]}`,
      flags: f[4],
      device: f[5],
    });
  }
  return out;
}

/** The namespace's own IPv4 addresses: fib_trie leaves typed `/32 host LOCAL`. */
export function parseFibTrieLocal(text: string): string[] {
  const found = new Set<string>();
  let leaf: string | undefined;
  for (const line of text.split('\n')) {
    const l = /^[\s|]*\|--\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (l) {
      leaf = l[1];
      continue;
    }
    const t = /^\s*\/(\d+)\s+(\S+)\s+(\S+)/.exec(line);
    if (t && leaf && t[1] === '32' && t[3] === 'LOCAL') found.add(leaf);
  }
  return [...found];
}

export interface InterfaceInfo extends DevCounters {
  ipv4: { address: string; prefixLength: number | null }[];
  ipv6: { address: string; prefixLength: number; scope: string }[];
}

const toInt = (ip: string): number =>
  ip.split('.').reduce((n, o) => ((n << 8) | Number(o)) >>> 0, 0);

/**
 * Interfaces with their counters and addresses. fib_trie does not say which interface holds an
 * IPv4 address, so it is the one whose directly connected route covers it (loopback for 127/8);
 * an address no route covers is listed under an interface named "?".
 */
export function buildInterfaces(
  dev: DevCounters[],
  v4Local: string[],
  routes: Route[],
  v6: Inet6Address[],
): InterfaceInfo[] {
  const byName = new Map<string, InterfaceInfo>(
    dev.map((d) => [d.name, { ...d, ipv4: [], ipv6: [] }]),
  );
  const get = (name: string): InterfaceInfo => {
    let i = byName.get(name);
    if (!i) {
      i = {
        name,
        rx: Object.fromEntries(RX.map((k) => [k, 0])) as DevCounters['rx'],
        tx: Object.fromEntries(TX.map((k) => [k, 0])) as DevCounters['tx'],
        ipv4: [],
        ipv6: [],
      };
      byName.set(name, i);
    }
    return i;
  };
  const connected = routes
    .filter((r) => !r.flags.includes('G') && r.prefixLength > 0)
    .sort((a, b) => b.prefixLength - a.prefixLength);
  for (const ip of v4Local) {
    if (ip.startsWith('127.')) {
      get('lo').ipv4.push({ address: ip, prefixLength: 8 });
      continue;
    }
    const r = connected.find((c) => (toInt(ip) & toInt(c.mask)) >>> 0 === toInt(c.destination));
    get(r?.iface ?? '?').ipv4.push({ address: ip, prefixLength: r?.prefixLength ?? null });
  }
  for (const a of v6)
    get(a.device).ipv6.push({ address: a.address, prefixLength: a.prefixLength, scope: a.scope });
  return [...byName.values()];
}
