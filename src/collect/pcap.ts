/**
 * Just enough of pcap to say what a container tried to reach: the classic pcap file format (the one
 * `tcpdump -w` writes), Ethernet / Linux cooked v1 and v2 / raw IP link layers, IPv4 and IPv6, TCP
 * SYNs, UDP, ICMP, and the question names of DNS queries. Every field is bounds-checked: the bytes
 * come from a capture of a hostile container. Nothing here allocates more than one record.
 */

export const PCAP_GLOBAL_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
/** tcpdump's own ceiling for a snapshot length; a record claiming more is corrupt. */
export const MAX_RECORD = 262_144;
const MAX_DNS_NAME = 255;
/** Distinct flows kept; packets of further flows are only counted. */
export const MAX_FLOWS = 10_000;

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_RAW_ALT = 12;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_LINUX_SLL2 = 276;

export interface PcapHeader {
  littleEndian: boolean;
  nanoseconds: boolean;
  linkType: number;
  snapLength: number;
}

/** Reads a pcap global header; null when the bytes are not one. */
export function parseGlobalHeader(b: Buffer): PcapHeader | null {
  if (b.length < PCAP_GLOBAL_HEADER) return null;
  const magicLE = b.readUInt32LE(0);
  let littleEndian: boolean;
  let nanoseconds: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    littleEndian = true;
    nanoseconds = magicLE === 0xa1b23c4d;
  } else {
    const magicBE = b.readUInt32BE(0);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) return null;
    littleEndian = false;
    nanoseconds = magicBE === 0xa1b23c4d;
  }
  const u32 = (o: number) => (littleEndian ? b.readUInt32LE(o) : b.readUInt32BE(o));
  return { littleEndian, nanoseconds, snapLength: u32(16), linkType: u32(20) & 0x0fffffff };
}

/** One flow: packets with the same protocol and endpoints, in the direction first seen. */
export interface Flow {
  proto: 'tcp' | 'udp' | 'icmp' | 'icmp6' | 'other';
  /** syn: a TCP flow whose first packet seen was a SYN without ACK (a connection attempt); dns: a UDP DNS query. */
  kind: 'syn' | 'tcp' | 'dns' | 'udp' | 'icmp' | 'other';
  src: string;
  srcPort: number | null;
  dst: string;
  dstPort: number | null;
  packets: number;
  bytes: number;
  /** SYNs without ACK seen (retries of the same 4-tuple count here). */
  syns: number;
  dnsNames: string[];
  first: string;
  last: string;
  /** Index (0-based) of the flow's first packet in the capture. */
  firstPacket: number;
}

function ipv4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function ipv6(b: Buffer, o: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(o + i).toString(16));
  // Compress the longest run of zero groups, as inet_ntop does.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (parts[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return parts.join(':');
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
}

/** The question names of a DNS query message (QR = 0); null when it is not one. Compression pointers are refused. */
export function dnsQueryNames(b: Buffer): string[] | null {
  if (b.length < 12) return null;
  const flags = b.readUInt16BE(2);
  if (flags & 0x8000) return null; // a response
  if ((flags >> 11) & 0xf) return null; // not a standard query
  const qd = b.readUInt16BE(4);
  if (qd < 1 || qd > 16) return null;
  const names: string[] = [];
  let o = 12;
  for (let q = 0; q < qd; q++) {
    const labels: string[] = [];
    let len = 0;
    for (;;) {
      if (o >= b.length) return names.length ? names : null;
      const l = b[o];
      if (l === 0) {
        o++;
        break;
      }
      if (l > 63 || o + 1 + l > b.length) return names.length ? names : null;
      len += l + 1;
      if (len > MAX_DNS_NAME) return names.length ? names : null;
      // Bytes outside printable ASCII are escaped the way dig shows them (\DDD).
      let s = '';
      for (const c of b.subarray(o + 1, o + 1 + l))
        s +=
          c > 0x20 && c < 0x7f && c !== 0x5c && c !== 0x2e
            ? String.fromCharCode(c)
            : `\\${String(c).padStart(3, '0')}`;
      labels.push(s);
      o += 1 + l;
    }
    o += 4; // QTYPE, QCLASS
    names.push(labels.length ? `${labels.join('.')}.` : '.');
  }
  return names;
}

/** Docker's embedded DNS server: queries to it are DNATed to a random port in the container's netns. */
const EMBEDDED_DNS = '127.0.0.11';

/**
 * Incremental reader of a pcap byte stream: feed chunks, it frames whole records (for the caller to
 * write) and keeps per-flow counts.
 */
export class PcapFlows {
  header: PcapHeader | null = null;
  /** Set when the stream stops being a pcap we can read (then nothing more is framed). */
  error: string | null = null;
  packets = 0;
  /** Packets not attributed to a flow (not IP, truncated, or past MAX_FLOWS). */
  unparsed = 0;
  private readonly flows = new Map<string, Flow>();
  private buf: Buffer = Buffer.alloc(0);

  /**
   * Adds bytes; returns the whole units (the global header, then whole records) now complete, in
   * order, so the caller can write exactly those and never a torn record.
   */
  push(chunk: Buffer): Buffer[] {
    if (this.error) return [];
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    let o = 0;
    if (!this.header) {
      if (this.buf.length < PCAP_GLOBAL_HEADER) return out;
      this.header = parseGlobalHeader(this.buf);
      if (!this.header) {
        this.error = 'not a pcap stream (bad magic number)';
        return out;
      }
      out.push(this.buf.subarray(0, PCAP_GLOBAL_HEADER));
      o = PCAP_GLOBAL_HEADER;
    }
    const h = this.header;
    const u32 = (x: number) =>
      h.littleEndian ? this.buf.readUInt32LE(x) : this.buf.readUInt32BE(x);
    while (this.buf.length - o >= PCAP_RECORD_HEADER) {
      const incl = u32(o + 8);
      if (incl > MAX_RECORD) {
        this.error = `record ${this.packets + 1} claims ${incl} bytes (more than ${MAX_RECORD})`;
        break;
      }
      if (this.buf.length - o < PCAP_RECORD_HEADER + incl) break;
      const sec = u32(o);
      const frac = u32(o + 4);
      const ms = sec * 1000 + (h.nanoseconds ? Math.floor(frac / 1e6) : Math.floor(frac / 1e3));
      const rec = this.buf.subarray(o, o + PCAP_RECORD_HEADER + incl);
      this.packet(rec.subarray(PCAP_RECORD_HEADER), ms, u32(o + 12));
      out.push(rec);
      o += PCAP_RECORD_HEADER + incl;
    }
    // Keep only the unframed tail (copied, so the big chunk can be freed).
    this.buf = Buffer.from(this.buf.subarray(o));
    return out;
  }

  /** Bytes received but not yet framed (a torn last record when the stream ends). */
  get pending(): number {
    return this.buf.length;
  }

  list(): Flow[] {
    return [...this.flows.values()].sort((a, b) => a.firstPacket - b.firstPacket);
  }

  private packet(p: Buffer, ms: number, origLen: number): void {
    const index = this.packets++;
    const ip = this.ipStart(p);
    if (ip === null || !this.ip(p, ip, ms, origLen, index)) this.unparsed++;
  }

  /** Offset of the IP header and its version, from the link layer. */
  private ipStart(p: Buffer): number | null {
    const lt = this.header!.linkType;
    let proto: number;
    let o: number;
    if (lt === LINKTYPE_ETHERNET) {
      if (p.length < 14) return null;
      proto = p.readUInt16BE(12);
      o = 14;
      // 802.1Q tags.
      while ((proto === 0x8100 || proto === 0x88a8) && p.length >= o + 4) {
        proto = p.readUInt16BE(o + 2);
        o += 4;
      }
    } else if (lt === LINKTYPE_LINUX_SLL) {
      if (p.length < 16) return null;
      proto = p.readUInt16BE(14);
      o = 16;
    } else if (lt === LINKTYPE_LINUX_SLL2) {
      if (p.length < 20) return null;
      proto = p.readUInt16BE(0);
      o = 20;
    } else if (lt === LINKTYPE_RAW || lt === LINKTYPE_RAW_ALT) {
      return p.length ? 0 : null;
    } else return null;
    return proto === 0x0800 || proto === 0x86dd ? o : null;
  }

  private ip(p: Buffer, o: number, ms: number, origLen: number, index: number): boolean {
    if (p.length < o + 1) return false;
    const version = p[o] >> 4;
    let src: string;
    let dst: string;
    let proto: number;
    let l4: number;
    if (version === 4) {
      if (p.length < o + 20) return false;
      const ihl = (p[o] & 0xf) * 4;
      if (ihl < 20 || p.length < o + ihl) return false;
      // A non-first fragment has no L4 header.
      if (p.readUInt16BE(o + 6) & 0x1fff) return false;
      proto = p[o + 9];
      src = ipv4(p, o + 12);
      dst = ipv4(p, o + 16);
      l4 = o + ihl;
    } else if (version === 6) {
      if (p.length < o + 40) return false;
      proto = p[o + 6];
      src = ipv6(p, o + 8);
      dst = ipv6(p, o + 24);
      l4 = o + 40;
      // Hop-by-hop, routing, destination options: skip a few, bounded.
      for (let i = 0; i < 4 && (proto === 0 || proto === 43 || proto === 60); i++) {
        if (p.length < l4 + 2) return false;
        proto = p[l4];
        l4 += (p[l4 + 1] + 1) * 8;
      }
    } else return false;
    if (proto === 6) {
      if (p.length < l4 + 14) return false;
      const sp = p.readUInt16BE(l4);
      const dp = p.readUInt16BE(l4 + 2);
      const flags = p[l4 + 13];
      const syn = (flags & 0x02) !== 0 && (flags & 0x10) === 0;
      this.add('tcp', syn ? 'syn' : 'tcp', src, sp, dst, dp, ms, origLen, index, syn, null);
      return true;
    }
    if (proto === 17) {
      if (p.length < l4 + 8) return false;
      const sp = p.readUInt16BE(l4);
      const dp = p.readUInt16BE(l4 + 2);
      const names =
        dp === 53 || dp === 5353 || dst === EMBEDDED_DNS ? dnsQueryNames(p.subarray(l4 + 8)) : null;
      this.add('udp', names ? 'dns' : 'udp', src, sp, dst, dp, ms, origLen, index, false, names);
      return true;
    }
    if (proto === 1 || proto === 58) {
      this.add(
        proto === 1 ? 'icmp' : 'icmp6',
        'icmp',
        src,
        null,
        dst,
        null,
        ms,
        origLen,
        index,
        false,
        null,
      );
      return true;
    }
    this.add('other', 'other', src, null, dst, null, ms, origLen, index, false, null);
    return true;
  }

  private add(
    proto: Flow['proto'],
    kind: Flow['kind'],
    src: string,
    sp: number | null,
    dst: string,
    dp: number | null,
    ms: number,
    bytes: number,
    index: number,
    syn: boolean,
    names: string[] | null,
  ): void {
    // A reply belongs to the flow its request started.
    const fwd = `${proto}|${src}|${sp}|${dst}|${dp}`;
    const rev = `${proto}|${dst}|${dp}|${src}|${sp}`;
    const at = new Date(ms).toISOString();
    const f = this.flows.get(fwd) ?? this.flows.get(rev);
    if (f) {
      f.packets++;
      f.bytes += bytes;
      f.last = at;
      if (syn) f.syns++;
      if (names)
        for (const n of names)
          if (f.dnsNames.length < 16 && !f.dnsNames.includes(n)) f.dnsNames.push(n);
      if (names && f.kind === 'udp') f.kind = 'dns';
      return;
    }
    if (this.flows.size >= MAX_FLOWS) {
      this.unparsed++;
      return;
    }
    this.flows.set(fwd, {
      proto,
      kind,
      src,
      srcPort: sp,
      dst,
      dstPort: dp,
      packets: 1,
      bytes,
      syns: syn ? 1 : 0,
      dnsNames: names ? names.slice(0, 16) : [],
      first: at,
      last: at,
      firstPacket: index,
    });
  }
}
