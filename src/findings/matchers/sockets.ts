import { z } from 'zod';
import { endpoint } from '../../timeline/extractors/sockets.js';
import type { Evidence, EvidenceRef, SocketInfo } from '../evidence.js';
import { inCidr, isLocalOnly } from '../ip.js';
import { defineMatcher, type Match } from '../matcher.js';

const family = (proto: string): string =>
  proto.startsWith('udp') ? 'udp' : proto.startsWith('tcp') ? 'tcp' : proto;

/** `tcp/80`-style keys of every port the container listens on (any snapshot). */
export function listeningPorts(sockets: readonly SocketInfo[]): Set<string> {
  const out = new Set<string>();
  for (const s of sockets) if (isListening(s)) out.add(`${family(s.proto)}/${s.localPort}`);
  return out;
}

export function isListening(s: SocketInfo): boolean {
  if (s.proto.startsWith('tcp')) return s.state === 'LISTEN';
  return s.proto.startsWith('udp') && !s.remotePort && s.localPort !== null;
}

/**
 * A connection the container opened: TCP/UDP with a real remote end, whose local port is not one the
 * container listens on (those are inbound), and not to loopback.
 */
export function isOutbound(s: SocketInfo, listening: ReadonlySet<string>): boolean {
  if (!/^(tcp|udp)6?$/.test(s.proto) || isListening(s) || s.state === 'CLOSE') return false;
  if (!s.remoteAddress || !s.remotePort || isLocalOnly(s.remoteAddress)) return false;
  return !listening.has(`${family(s.proto)}/${s.localPort}`);
}

/** Groups snapshots of the same socket (before and after isolation) into one match. */
function grouped(
  list: SocketInfo[],
  key: (s: SocketInfo) => string,
  summary: (s: SocketInfo, phases: string[]) => string,
): Match[] {
  const groups = new Map<string, SocketInfo[]>();
  for (const s of list) groups.set(key(s), [...(groups.get(key(s)) ?? []), s]);
  return [...groups.entries()].map(([k, g]) => ({
    key: k,
    summary: summary(g[0], [...new Set(g.map((s) => s.phase))]),
    evidence: g.map((s): EvidenceRef => ({ artifact: s.artifact, ref: { entry: s.entry } })),
  }));
}

function onNetworks(ev: Evidence, addr: string): boolean {
  return ev.networks.some((c) => inCidr(addr, c));
}

/** Outbound connections, optionally only to places off the container's networks or to unusual ports. */
export const socketMatcher = defineMatcher({
  kind: 'socket',
  description:
    'outbound connections; notOnContainerNetworks and remotePortNotIn narrow them (all conditions must hold)',
  params: z.strictObject({
    outbound: z.literal(true),
    notOnContainerNetworks: z.boolean().default(false),
    remotePortNotIn: z.array(z.number().int().min(0).max(65535)).optional(),
  }),
  match(p, ev) {
    const listening = listeningPorts(ev.sockets);
    if (p.notOnContainerNetworks && !ev.networks.length) {
      ev.diag.note(
        "findings: the container's networks are unknown (no inspect, routes or interfaces); off-network connections not judged",
      );
      return [];
    }
    const hits = ev.sockets.filter(
      (s) =>
        isOutbound(s, listening) &&
        (!p.notOnContainerNetworks || !onNetworks(ev, s.remoteAddress!)) &&
        (!p.remotePortNotIn || !p.remotePortNotIn.includes(s.remotePort!)),
    );
    return grouped(
      hits,
      (s) =>
        `${family(s.proto)}|${endpoint(s.localAddress, s.localPort)}|${endpoint(s.remoteAddress, s.remotePort)}`,
      (s, phases) =>
        `outbound ${family(s.proto)} connection ${endpoint(s.localAddress, s.localPort)} → ${endpoint(s.remoteAddress, s.remotePort)} ${s.state}${s.processes.length ? ` by ${s.processes.join(', ')}` : ''}${p.notOnContainerNetworks ? ', to an address on none of its networks' : ''}${p.remotePortNotIn ? `, to unusual port ${s.remotePort}` : ''} (seen: ${phases.join(', ')})`,
    );
  },
});

/** Listening ports that neither the image nor the container's config declares (EXPOSE / -p). */
export const listeningMatcher = defineMatcher({
  kind: 'listening',
  description: 'listening TCP/UDP ports the image (or the container config) does not expose',
  params: z.strictObject({
    notExposedByImage: z.literal(true),
    ignoreLoopback: z.boolean().default(false),
    /** Local addresses whose listeners are not the container's own (e.g. the engine's embedded DNS). */
    ignoreAddresses: z.array(z.string()).default([]),
  }),
  match(p, ev) {
    const loopback = (a: string | null): boolean =>
      Boolean(a && isLocalOnly(a) && a !== '0.0.0.0' && a !== '::');
    const hits = ev.sockets.filter(
      (s) =>
        isListening(s) &&
        s.localPort !== null &&
        !ev.exposed.has(`${s.localPort}/${family(s.proto)}`) &&
        !(p.ignoreLoopback && loopback(s.localAddress)) &&
        !(s.localAddress && p.ignoreAddresses.includes(s.localAddress)),
    );
    return grouped(
      hits,
      (s) => `${family(s.proto)}/${s.localPort}`,
      (s, phases) =>
        `${family(s.proto)} port ${s.localPort} listening on ${endpoint(s.localAddress, s.localPort)}${s.processes.length ? ` (${s.processes.join(', ')})` : ''}, not exposed by the image (seen: ${phases.join(', ')})`,
    );
  },
});
