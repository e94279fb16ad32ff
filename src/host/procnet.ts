/**
 * Pure decoders for the socket tables of /proc/<pid>/net/{tcp,tcp6,udp,udp6,unix}
 * (evidence-formats.md: net/<phase>/sockets.json). No file access here.
 */

export type SocketProto = 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'unix';

export interface SocketEntry {
  proto: SocketProto;
  localAddress: string | null;
  localPort: number | null;
  remoteAddress: string | null;
  remotePort: number | null;
  state: string;
  inode: number;
  uid: number | null;
  pids: number[];
  processes: string[];
  /** unix sockets: the bound path ('' for unnamed, '@…' for abstract). */
  path?: string;
  /** unix sockets: STREAM, DGRAM, SEQPACKET. */
  type?: string;
}

/** include/net/tcp_states.h */
const TCP_STATES: Record<number, string> = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSE',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
  12: 'NEW_SYN_RECV',
};

/** Name of a kernel socket state; UDP sockets that are not connected show as UNCONN (as `ss` does). */
export function stateName(proto: SocketProto, hex: string): string {
  const n = parseInt(hex, 16);
  if ((proto === 'udp' || proto === 'udp6') && n === 7) return 'UNCONN';
  return TCP_STATES[n] ?? `UNKNOWN(0x${hex.toUpperCase()})`;
}

/** The bytes of /proc's address hex: each 32-bit word is printed in host order (little-endian here). */
function wordsToBytes(hex: string): number[] {
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    for (const i of [6, 4, 2, 0]) bytes.push(parseInt(hex.slice(w + i, w + i + 2), 16));
  }
  return bytes;
}

/** `0100007F` → `127.0.0.1`. */
export function hexToIPv4(hex: string): string {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) throw new Error(`not an IPv4 /proc address: ${hex}`);
  return wordsToBytes(hex).join('.');
}

/** 32 hex digits as four little-endian 32-bit words → RFC 5952 text (`::1`, `::ffff:10.0.0.1`). */
export function hexToIPv6(hex: string): string {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) throw new Error(`not an IPv6 /proc address: ${hex}`);
  return formatIPv6(wordsToBytes(hex));
}

/** 16 bytes → RFC 5952 text: lowercase, longest run of ≥2 zero groups as `::`, v4-mapped as dotted quad. */
export function formatIPv6(bytes: number[]): string {
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

const INET_LINE =
  /^\s*\d+:\s+([0-9A-Fa-f]+):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]+):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{2})\s+\S+\s+\S+\s+\S+\s+(\d+)\s+\d+\s+(\d+)/;

/** One line of tcp/tcp6/udp/udp6; null for the header or anything that is not a socket line. */
export function parseInetLine(
  proto: Exclude<SocketProto, 'unix'>,
  line: string,
): SocketEntry | null {
  const m = INET_LINE.exec(line);
  if (!m) return null;
  const v6 = proto.endsWith('6');
  const addr = v6 ? hexToIPv6 : hexToIPv4;
  if (m[1].length !== (v6 ? 32 : 8) || m[3].length !== (v6 ? 32 : 8)) return null;
  return {
    proto,
    localAddress: addr(m[1]),
    localPort: parseInt(m[2], 16),
    remoteAddress: addr(m[3]),
    remotePort: parseInt(m[4], 16),
    state: stateName(proto, m[5]),
    inode: Number(m[7]),
    uid: Number(m[6]),
    pids: [],
    processes: [],
  };
}

const UNIX_TYPES: Record<number, string> = {
  1: 'STREAM',
  2: 'DGRAM',
  3: 'RAW',
  4: 'RDM',
  5: 'SEQPACKET',
};
const UNIX_STATES: Record<number, string> = {
  0: 'FREE',
  1: 'UNCONNECTED',
  2: 'CONNECTING',
  3: 'CONNECTED',
  4: 'DISCONNECTING',
};
const SO_ACCEPTCON = 0x10000;
const UNIX_LINE =
  /^([0-9A-Fa-f]+): ([0-9A-Fa-f]+) ([0-9A-Fa-f]+) ([0-9A-Fa-f]+) ([0-9A-Fa-f]+) ([0-9A-Fa-f]+)\s+(\d+)(?: (.*))?$/;

/**
 * One line of /proc/net/unix. The path is everything after the inode column and may hold
 * spaces (it is chosen by whoever bound the socket); a listening socket shows as LISTEN.
 */
export function parseUnixLine(line: string): SocketEntry | null {
  const m = UNIX_LINE.exec(line);
  if (!m) return null;
  const flags = parseInt(m[4], 16);
  const st = parseInt(m[6], 16);
  const path = m[8] ?? '';
  return {
    proto: 'unix',
    localAddress: path,
    localPort: null,
    remoteAddress: null,
    remotePort: null,
    state: flags & SO_ACCEPTCON ? 'LISTEN' : (UNIX_STATES[st] ?? `UNKNOWN(0x${m[6]})`),
    inode: Number(m[7]),
    uid: null,
    pids: [],
    processes: [],
    path,
    type: UNIX_TYPES[parseInt(m[5], 16)] ?? `UNKNOWN(0x${m[5]})`,
  };
}

/** Parses one line of the named table (the header line yields null). */
export function parseSocketLine(proto: SocketProto, line: string): SocketEntry | null {
  return proto === 'unix' ? parseUnixLine(line) : parseInetLine(proto, line);
}

/** Fills `pids`/`processes` from an inode → owners map (inode 0 means no owning file: e.g. TIME_WAIT). */
export function withOwners(
  s: SocketEntry,
  owners: Map<number, { pids: number[]; names: string[] }>,
): SocketEntry {
  const o = s.inode ? owners.get(s.inode) : undefined;
  return o ? { ...s, pids: [...o.pids].sort((a, b) => a - b), processes: [...o.names].sort() } : s;
}
