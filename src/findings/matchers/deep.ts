import { z } from 'zod';
import { safeText } from '../../util/sanitize.js';
import { defineMatcher } from '../matcher.js';

/** Every YARA match evidence:yara recorded: one finding per rule, artifact and member. */
export const yaraMatcher = defineMatcher({
  kind: 'yara',
  description: 'matches of the YARA rules evidence:yara ran (rule, artifact, member, offset)',
  params: z.strictObject({ rules: z.array(z.string()).optional() }),
  match(p, ev) {
    const groups = new Map<string, NonNullable<typeof ev.yara>>();
    for (const h of ev.yara ?? []) {
      if (p.rules && !p.rules.includes(h.rule)) continue;
      const k = `${h.rule}|${h.artifact}|${h.member ?? ''}`;
      groups.set(k, [...(groups.get(k) ?? []), h]);
    }
    return [...groups.entries()].map(([key, g]) => {
      const h = g[0];
      const where = h.member ? `member ${safeText(h.member)} of ${h.artifact}` : h.artifact;
      const offsets = g
        .map((x) => x.offset)
        .filter((o): o is number => o !== null)
        .slice(0, 5);
      return {
        key,
        summary: `YARA rule ${safeText(h.rule)} matched ${where}${offsets.length ? ` at offset ${offsets.join(', ')}${g.length > offsets.length ? ' …' : ''}` : ''}${h.string ? ` (${safeText(h.string)})` : ''}`,
        evidence: [
          ...g.slice(0, 20).map((x) => ({ artifact: x.source, ref: { entry: x.entry } })),
          { artifact: h.artifact, ref: {} },
        ],
      };
    });
  },
});

/**
 * What the container tried to reach in a capture phase (collect:traffic): SYNs, DNS queries, UDP.
 * Retries (a new source port each time) are one finding per destination (and per name for DNS).
 */
export const trafficMatcher = defineMatcher({
  kind: 'trafficAttempt',
  description:
    'flows the container started in a traffic capture (TCP SYNs, DNS queries, other UDP), one per destination and capture phase',
  params: z.strictObject({
    phases: z.array(z.string()).default(['after-isolation']),
    kinds: z.array(z.enum(['syn', 'dns', 'udp', 'icmp'])).default(['syn', 'dns', 'udp']),
  }),
  match(p, ev) {
    const groups = new Map<string, NonNullable<typeof ev.traffic>>();
    for (const f of ev.traffic ?? []) {
      if (!p.phases.includes(f.phase) || !(p.kinds as string[]).includes(f.kind)) continue;
      const k = `${f.phase}|${f.kind}|${f.proto}|${f.dst}|${f.dstPort}|${f.kind === 'dns' ? f.dnsNames.join(',') : ''}`;
      groups.set(k, [...(groups.get(k) ?? []), f]);
    }
    return [...groups.entries()].map(([key, g]) => {
      const f = g[0];
      const packets = g.reduce((n, x) => n + x.packets, 0);
      const first = g
        .map((x) => x.first)
        .filter(Boolean)
        .sort()[0];
      const last = g
        .map((x) => x.last)
        .filter(Boolean)
        .sort()
        .pop();
      const to = `${f.dst}${f.dstPort !== null ? `:${f.dstPort}` : ''}`;
      const what =
        f.kind === 'dns'
          ? `DNS query for ${f.dnsNames.map((n) => safeText(n)).join(', ') || '(unparsed name)'} to ${to}`
          : f.kind === 'syn'
            ? `TCP connection attempts (SYN) to ${to}`
            : `${f.proto} to ${to}`;
      return {
        key,
        summary: `${f.phase}: ${what} from ${f.src}, ${g.length} flow${g.length === 1 ? '' : 's'}, ${packets} packets${first ? `, ${first} – ${last}` : ''}`,
        evidence: g.slice(0, 50).map((x) => ({ artifact: x.artifact, ref: { entry: x.entry } })),
      };
    });
  },
});
