import net from 'node:net';
import { z } from 'zod';

/**
 * The nftables rule set contain:restrict-egress installs in the container's own network namespace.
 * Pure: text in, text out; every value that reaches the rule text was validated here first (an
 * address, a prefix length, a port number), so nothing from a playbook can add a rule of its own.
 *
 * One table per case (`inet cirt-egress-<case>`): applying is one nft transaction (all or nothing),
 * release deletes exactly that table, and nothing else in the namespace (Docker's own DNS NAT rules)
 * is touched. Base chains hook output, input and forward just before the filter priority; a drop
 * there is final whatever other tables accept.
 *
 * Outbound vs. inbound is told by conntrack's direction, not by ports: a packet the container sends
 * in the `original` direction belongs to a connection it opened (new or established: a live C2
 * session is cut too), one it sends in the `reply` direction answers a connection opened towards
 * it. A TCP packet that is `new` without being a SYN is a flow conntrack picked up mid-stream (one
 * that predates tracking in this namespace): its direction cannot be trusted, so it is dropped.
 */

/** An address or CIDR as a playbook writes it (`10.0.0.0/8`, `192.0.2.7`, `fd00::/8`). */
export const cidrText = z
  .string()
  .max(64)
  .refine((s) => parseCidr(s) !== undefined, 'an IPv4 or IPv6 address, optionally with /prefix');

export const allowEntry = z.strictObject({
  cidr: cidrText.describe('Destination address or CIDR the container may still reach.'),
  ports: z
    .array(z.number().int().min(1).max(65535))
    .max(64)
    .optional()
    .describe('Destination ports (all when absent).'),
  protocol: z.enum(['tcp', 'udp', 'any']).default('any').describe('tcp, udp or any.'),
});
export type AllowEntry = z.output<typeof allowEntry>;

/** `80/tcp`, `53/udp` or a bare port number (tcp). */
export const portSpec = z
  .union([z.number().int().min(1).max(65535), z.string().regex(/^\d{1,5}\/(tcp|udp)$/)])
  .refine((v) => typeof v === 'number' || Number(v.split('/')[0]) <= 65535, 'a port up to 65535');

export interface Cidr {
  family: 'ipv4' | 'ipv6';
  address: string;
  prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const [address, bits, ...rest] = text.split('/');
  if (rest.length) return undefined;
  const v = net.isIP(address);
  if (!v) return undefined;
  const max = v === 4 ? 32 : 128;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return undefined;
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) return undefined;
  return { family: v === 4 ? 'ipv4' : 'ipv6', address, prefix };
}

/** Whether `ip` falls in one of the allow entries (any port): a probe there would prove nothing. */
export function allowedAddress(ip: string, allow: readonly AllowEntry[]): boolean {
  const list = new net.BlockList();
  for (const a of allow) {
    const c = parseCidr(a.cidr)!;
    list.addSubnet(c.address, c.prefix, c.family);
  }
  const v = net.isIP(ip);
  return v !== 0 && list.check(ip, v === 4 ? 'ipv4' : 'ipv6');
}

/** The table a case's rules live in (nft names may be 256 characters; case ids are at most 128). */
export function egressTable(caseId: string): string {
  return `cirt-egress-${caseId}`;
}

/** Marks the rule that counts the probe's packets, so the step can see its own rule dropped them. */
export const PROBE_COMMENT = 'cirt probe';

export interface EgressPlan {
  table: string;
  caseId: string;
  /** Ports that keep taking connections from outside (the published / exposed ones). */
  inbound: { port: number; protocol: 'tcp' | 'udp' }[];
  allow: AllowEntry[];
  /** The blocked address the step probes afterwards (its packets are counted by their own rule). */
  probe: { ip: string; port: number } | null;
}

const ICMP6_ND =
  'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept';

function match(a: AllowEntry, side: 'daddr' | 'saddr'): string {
  const c = parseCidr(a.cidr)!;
  const addr = `${c.family === 'ipv4' ? 'ip' : 'ip6'} ${side} ${c.address}/${c.prefix}`;
  const portSide = side === 'daddr' ? 'dport' : 'sport';
  const ports = a.ports?.length ? ` th ${portSide} { ${a.ports.join(', ')} }` : '';
  const proto =
    a.protocol === 'any'
      ? ports
        ? 'meta l4proto { tcp, udp } '
        : ''
      : `meta l4proto ${a.protocol} `;
  return `${proto}${addr}${ports}`;
}

/** The nft script (`nft -f -`) that installs the plan as one transaction. */
export function egressRuleset(p: EgressPlan): string {
  const guards = [
    'ct state invalid drop',
    'tcp flags & (fin|syn|rst|ack) != syn ct state new drop',
    ICMP6_ND,
  ];
  const inboundRules = (['tcp', 'udp'] as const).flatMap((proto) => {
    const ports = [...new Set(p.inbound.filter((i) => i.protocol === proto).map((i) => i.port))];
    return ports.length
      ? [`ct direction original ${proto} dport { ${ports.join(', ')} } accept`]
      : [];
  });
  const probe = p.probe
    ? [
        `${net.isIP(p.probe.ip) === 4 ? 'ip' : 'ip6'} daddr ${p.probe.ip} tcp dport ${p.probe.port} counter drop comment "${PROBE_COMMENT}"`,
      ]
    : [];
  const chain = (name: string, hook: string, body: string[]): string[] => [
    `  chain ${name} {`,
    `    type filter hook ${hook} priority -10; policy drop;`,
    ...body.map((l) => `    ${l}`),
    '  }',
  ];
  return [
    `table inet ${p.table} {`,
    `  comment "cirt case ${p.caseId}: contain:restrict-egress"`,
    ...chain('output', 'output', [
      'oifname "lo" accept',
      ...guards,
      'ct direction reply accept comment "answers to connections opened towards the container"',
      ...p.allow.map((a) => `ct direction original ${match(a, 'daddr')} accept`),
      ...probe,
      'counter drop comment "outbound"',
    ]),
    ...chain('input', 'input', [
      'iifname "lo" accept',
      ...guards,
      ...inboundRules,
      ...p.allow.map((a) => `ct direction reply ${match(a, 'saddr')} accept`),
      'counter drop comment "inbound"',
    ]),
    ...chain('forward', 'forward', ['counter drop comment "forwarded"']),
    '}',
    '',
  ].join('\n');
}

/** Packets the probe rule counted, from `nft list table` output; undefined when the rule is not there. */
export function probeCount(listing: string): number | undefined {
  const m = new RegExp(`counter packets (\\d+) bytes \\d+ drop comment "${PROBE_COMMENT}"`).exec(
    listing,
  );
  return m ? Number(m[1]) : undefined;
}

/** The ports to keep open from the container's port map (`80/tcp` → bindings); sctp is left out. */
export function inboundFromPorts(
  ports: Record<string, unknown>,
): { port: number; protocol: 'tcp' | 'udp' }[] {
  const out: { port: number; protocol: 'tcp' | 'udp' }[] = [];
  for (const key of Object.keys(ports)) {
    const m = /^(\d{1,5})\/(tcp|udp)$/.exec(key);
    if (m) out.push({ port: Number(m[1]), protocol: m[2] as 'tcp' | 'udp' });
  }
  return out;
}

/** `80/tcp` or 80 → one inbound port. */
export function parsePortSpec(v: number | string): { port: number; protocol: 'tcp' | 'udp' } {
  if (typeof v === 'number') return { port: v, protocol: 'tcp' };
  const [port, protocol] = v.split('/');
  return { port: Number(port), protocol: protocol as 'tcp' | 'udp' };
}

/**
 * The flows of a `conntrack -L` listing the container opened (original source is its address) to a
 * destination the allow list does not name: what the rules cut. Loopback flows are left out.
 */
export function outboundFlows(
  listing: string,
  containerIp: string | undefined,
  p: Pick<EgressPlan, 'allow'>,
): string[] {
  if (!containerIp) return [];
  return listing.split('\n').filter((line) => {
    const src = /\bsrc=(\S+)/.exec(line)?.[1];
    const dst = /\bdst=(\S+)/.exec(line)?.[1];
    return (
      src === containerIp &&
      dst !== undefined &&
      !dst.startsWith('127.') &&
      !allowedAddress(dst, p.allow)
    );
  });
}
